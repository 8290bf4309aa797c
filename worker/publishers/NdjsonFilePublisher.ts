/** Appends each event as one JSON line to a file (one write per event, so lines never interleave). */
import { appendFile } from 'node:fs/promises';
import type { DefectEvent } from '../../shared/events.js';
import type { Publisher } from './Publisher.js';

export class NdjsonFilePublisher implements Publisher {
  readonly name = 'ndjson';

  constructor(private readonly path: string) {}

  async publish(event: DefectEvent): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(event)}\n`);
  }
}
