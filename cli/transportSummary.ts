/** `streamqc analyze --transport`: a transport stream file's TR 101 290 report as one line of text. */
import type { TransportReport } from '../worker/transport/TsAnalyzer.js';

export function formatTransport(report: TransportReport | null): string {
  if (!report) return 'transport: not a transport stream file (or no transport check selected)';
  const pids = report.pids
    .map(
      (p) =>
        `${p.pid} ${p.packets} packets` +
        (p.continuityErrors ? `, ${p.continuityErrors} continuity errors (${p.missing} missing)` : '') +
        (p.duplicates ? `, ${p.duplicates} sent twice` : ''),
    )
    .join('; ');
  const pcr = report.pcr;
  const clock = pcr
    ? `PCR on ${pcr.pid}: ${pcr.count}, interval max ${pcr.maxIntervalMs ?? '–'} ms` +
      (pcr.constantRate
        ? `, constant rate ${pcr.bitrate} bit/s, accuracy max ${pcr.maxAccuracyNs} ns (${pcr.accuracyErrors} over ±500 ns)`
        : pcr.constantRate === false
          ? ', variable rate (accuracy not judged)'
          : '')
    : 'no PCR';
  const captions = report.captionServices.length ? `; captions ${report.captionServices.join(', ')}` : '';
  return `transport: ${report.packets} packets; ${pids}; ${clock}${captions}`;
}
