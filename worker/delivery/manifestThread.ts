/**
 * The body of a parsing thread (see ManifestSandbox): parses one document per message and
 * answers with plain data or the failure. Its heap is capped by the Worker's resourceLimits: a
 * document that expands past them ends this thread, not the worker.
 */
import { parentPort } from 'node:worker_threads';
import { failureOf, type ParseJob, parseDocument } from './parseDocument.js';

parentPort?.on('message', (job: ParseJob & { id: number }) => {
  try {
    parentPort?.postMessage({ id: job.id, ok: true, document: parseDocument(job) });
  } catch (e) {
    parentPort?.postMessage({ id: job.id, ok: false, failure: failureOf(e, job.url) });
  }
});

parentPort?.postMessage({ ready: true });
