/** Prints each event as one readable line on stdout (the local stack's operator view). */
import type { DefectEvent } from '../../shared/events.js';
import type { Publisher } from './Publisher.js';

export class ConsolePublisher implements Publisher {
  readonly name = 'console';

  constructor(private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {}

  async publish(event: DefectEvent): Promise<void> {
    const when = event.state === 'raised' ? (event.wallStart ?? '') : (event.wallEnd ?? '');
    const span =
      event.end === null
        ? `from ${event.start.toFixed(2)} s`
        : `${event.start.toFixed(2)}–${event.end.toFixed(2)} s`;
    const detail = Object.entries(event.detail)
      // A rendition reads as its URI (the playlist a person would open).
      .map(([k, v]) => `${k}=${typeof v === 'object' ? v.uri : v}`)
      .join(' ');
    this.write(
      `${when} ${event.state.toUpperCase().padEnd(7)} ${event.type.padEnd(16)} ${event.severity.padEnd(8)} ${event.streamId} ${span} ${detail}`,
    );
  }
}
