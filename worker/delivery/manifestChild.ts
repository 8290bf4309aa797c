/**
 * The body of a parsing process (see ManifestSandbox): parses one document per message and
 * answers with plain data or the failure. Its heap is capped (--max-old-space-size): a document
 * that expands past it ends this process, not the worker. It exits when the worker goes away.
 */
import { failureOf, type ParseJob, parseDocument } from './parseDocument.js';

process.on('message', (job: ParseJob & { id: number }) => {
  try {
    process.send?.({ id: job.id, ok: true, document: parseDocument(job) });
  } catch (e) {
    process.send?.({ id: job.id, ok: false, failure: failureOf(e, job.url) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
