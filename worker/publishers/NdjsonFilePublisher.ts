/** Appends each event as one JSON line to a file (one write per event, so lines never interleave). */
import { readFileSync } from 'node:fs';
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

/** Every event an NDJSON sink file holds so far (none when it does not exist yet). */
export function readNdjsonEvents(path: string): DefectEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as DefectEvent);
}
