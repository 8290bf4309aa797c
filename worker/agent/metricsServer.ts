/** The worker's /healthz and Prometheus /metrics endpoints. */
import { createServer, type Server } from 'node:http';
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
  );
  return `${lines.join('\n')}\n`;
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
