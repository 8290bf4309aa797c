/** Where defect events go: SNS on AWS; console, an NDJSON file or a webhook locally. */
import type { DefectEvent } from '../../shared/events.js';

export interface Publisher {
  readonly name: string;
  /** Delivers one event; rejects when it was not delivered (the outbox retries). */
  publish(event: DefectEvent): Promise<void>;
}

/** A short one-line summary, used as SNS subject and console line head (under 100 characters). */
export function eventSubject(event: DefectEvent): string {
  const subject = `[streamqc] ${event.state.toUpperCase()} ${event.type} ${event.severity} on ${event.streamId}`;
  return subject.length <= 99 ? subject : `${subject.slice(0, 98)}…`;
}
