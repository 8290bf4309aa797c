/** The worker's /healthz and Prometheus /metrics endpoints. */
import { createServer, type Server } from 'node:http';
import { ManifestSandbox } from '../delivery/ManifestSandbox.js';
import type { Outbox, SinkCounters } from '../publishers/Outbox.js';
import type { WorkerAgent } from './WorkerAgent.js';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Renders the agent's state in the Prometheus text format. */
function sinkLines(outbox: Outbox, metric: string, key: keyof SinkCounters): string[] {
  return [...outbox.counters].map(([sink, c]) => `${metric}{sink="${escapeLabel(sink)}"} ${c[key]}`);
}

export function renderMetrics(agent: WorkerAgent, outbox: Outbox): string {
  const lines = [
    '# HELP streamqc_streams Work units this worker runs.',
    '# TYPE streamqc_streams gauge',
    `streamqc_streams ${agent.supervisors.size}`,
    '# HELP streamqc_lease_moves_total Units this worker claimed, released, or took over from departed workers.',
    '# TYPE streamqc_lease_moves_total counter',
    ...Object.entries(agent.moves).map(([kind, n]) => `streamqc_lease_moves_total{kind="${kind}"} ${n}`),
    '# HELP streamqc_manifest_parsers_killed_total Parsing processes ended by a document (heap cap or deadline).',
    '# TYPE streamqc_manifest_parsers_killed_total counter',
    `streamqc_manifest_parsers_killed_total ${ManifestSandbox.killedTotal}`,
    '# HELP streamqc_frames_total Video frames and audio chunks decoded, per stream.',
    '# TYPE streamqc_frames_total counter',
  ];
  const per: string[][] = [[], [], [], [], []];
  for (const s of agent.supervisors.values()) {
    const labels = `stream="${escapeLabel(s.unit.streamId)}",group="${escapeLabel(s.unit.group)}"`;
    per[0].push(`streamqc_frames_total{${labels}} ${s.frames}`);
    per[1].push(`streamqc_lag_seconds{${labels}} ${s.lagSeconds.toFixed(3)}`);
    per[2].push(`streamqc_ffmpeg_cpu_seconds_total{${labels}} ${s.cpuSeconds().toFixed(2)}`);
    per[3].push(`streamqc_converter_restarts_total{${labels}} ${s.restarts}`);
    per[4].push(`streamqc_unit_state{${labels},state="${s.state}"} 1`);
  }
  lines.push(...per[0]);
  lines.push(
    '# HELP streamqc_lag_seconds How far behind the live edge a stream is processed.',
    '# TYPE streamqc_lag_seconds gauge',
    ...per[1],
  );
  lines.push(
    "# HELP streamqc_ffmpeg_cpu_seconds_total CPU used by a stream's ffmpeg.",
    '# TYPE streamqc_ffmpeg_cpu_seconds_total counter',
    ...per[2],
  );
  lines.push(
    '# HELP streamqc_converter_restarts_total Times the monitor re-opened a source (its own converter restarts).',
    '# TYPE streamqc_converter_restarts_total counter',
    ...per[3],
    '# HELP streamqc_unit_state The state of each unit (opening, running, no-media, backoff, completed).',
    '# TYPE streamqc_unit_state gauge',
    ...per[4],
  );
  lines.push(
    '# HELP streamqc_events_delivered_total Events a sink took, by sink.',
    '# TYPE streamqc_events_delivered_total counter',
    ...sinkLines(outbox, 'streamqc_events_delivered_total', 'delivered'),
    '# HELP streamqc_delivery_failures_total Failed delivery attempts (retried), by sink.',
    '# TYPE streamqc_delivery_failures_total counter',
    ...sinkLines(outbox, 'streamqc_delivery_failures_total', 'failures'),
    '# HELP streamqc_dead_letters_total Events a sink gave up on (kept as dead letters), by sink.',
    '# TYPE streamqc_dead_letters_total counter',
    ...sinkLines(outbox, 'streamqc_dead_letters_total', 'deadLettered'),
    '# HELP streamqc_worker_full 1 when the worker is at its budget or behind.',
    '# TYPE streamqc_worker_full gauge',
    `streamqc_worker_full ${agent.full ? 1 : 0}`,
    ...admissionLines(agent),
  );
  return `${lines.join('\n')}\n`;
}

/** Admission control and liveness: event-loop delay, opens, measured CPU and room. */
function admissionLines(agent: WorkerAgent): string[] {
  const h = agent.headroom;
  return [
    "# HELP streamqc_event_loop_delay_p99_seconds The main thread's event-loop delay over the last tick, 99th percentile.",
    '# TYPE streamqc_event_loop_delay_p99_seconds gauge',
    `streamqc_event_loop_delay_p99_seconds ${agent.loopDelay.p99.toFixed(4)}`,
    "# HELP streamqc_event_loop_delay_max_seconds The main thread's longest event-loop delay over the last tick.",
    '# TYPE streamqc_event_loop_delay_max_seconds gauge',
    `streamqc_event_loop_delay_max_seconds ${agent.loopDelay.max.toFixed(4)}`,
    '# HELP streamqc_units_not_running Units held for over a minute that are not monitoring (opening or backing off).',
    '# TYPE streamqc_units_not_running gauge',
    `streamqc_units_not_running ${agent.unitsNotRunning()}`,
    '# HELP streamqc_opens_in_flight Units opening now (probe, decoder start, first frames).',
    '# TYPE streamqc_opens_in_flight gauge',
    `streamqc_opens_in_flight ${agent.openGate.opening}`,
    '# HELP streamqc_opens_queued Units waiting for an open slot.',
    '# TYPE streamqc_opens_queued gauge',
    `streamqc_opens_queued ${agent.openGate.queued}`,
    '# HELP streamqc_opens_peak Most units ever opening at once on this worker.',
    '# TYPE streamqc_opens_peak gauge',
    `streamqc_opens_peak ${agent.openGate.peakInFlight}`,
    '# HELP streamqc_cpu_used_cores CPU this worker and its decoders use (about 4 s average).',
    '# TYPE streamqc_cpu_used_cores gauge',
    `streamqc_cpu_used_cores ${h.usedCores.toFixed(3)}`,
    '# HELP streamqc_host_cpu_used_cores CPU the whole machine uses, this worker included (about 4 s average).',
    '# TYPE streamqc_host_cpu_used_cores gauge',
    `streamqc_host_cpu_used_cores ${h.hostCores.toFixed(3)}`,
    '# HELP streamqc_cpu_cores Cores this worker measures its headroom against.',
    '# TYPE streamqc_cpu_cores gauge',
    `streamqc_cpu_cores ${h.options.cores}`,
    '# HELP streamqc_admission_room Units the worker could claim now by its measured headroom.',
    '# TYPE streamqc_admission_room gauge',
    `streamqc_admission_room ${h.room(Date.now())}`,
    '# HELP streamqc_lease_renewals_total Fleet lease renewals from the lease thread, by result.',
    '# TYPE streamqc_lease_renewals_total counter',
    `streamqc_lease_renewals_total{result="ok"} ${agent.leaseRenewals.ok}`,
    `streamqc_lease_renewals_total{result="failed"} ${agent.leaseRenewals.failed}`,
  ];
}

/** Serves /healthz and /metrics on 127.0.0.1 (0 picks a free port). */
export async function startMetricsServer(
  agent: WorkerAgent,
  outbox: Outbox,
  port: number,
  host = '127.0.0.1',
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      const ok = !agent.isDraining;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: ok ? 'ok' : 'draining',
          workerId: agent.workerId,
          streams: agent.supervisors.size,
          eventLoopDelayP99Seconds: Number(agent.loopDelay.p99.toFixed(4)),
          opening: agent.openGate.opening,
        }),
      );
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(renderMetrics(agent, outbox));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  return server;
}
