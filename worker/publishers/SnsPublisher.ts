/**
 * Publishes events to an SNS topic: the event JSON as the body, and `type`, `severity`,
 * `streamId`, `state` and `owner` as message attributes so subscribers can filter (filter
 * policies: one owner's consumers subscribe with `{"owner": ["…"]}` and see nothing else).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { DefectEvent } from '../../shared/events.js';
import { eventSubject, type Publisher } from './Publisher.js';

export class SnsPublisher implements Publisher {
  readonly name = 'sns';

  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(event: DefectEvent): Promise<void> {
    const attr = (value: string) => ({ DataType: 'String', StringValue: value });
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: eventSubject(event).replace(/[^\x20-\x7e]/g, '.'),
        Message: JSON.stringify(event),
        MessageAttributes: {
          type: attr(event.type),
          severity: attr(event.severity),
          streamId: attr(event.streamId),
          state: attr(event.state),
          ...(event.owner ? { owner: attr(event.owner) } : {}),
        },
        // FIFO topics deduplicate on this; standard topics ignore it.
        ...(this.topicArn.endsWith('.fifo')
          ? {
              MessageGroupId: event.streamId,
              MessageDeduplicationId: `${event.dedupKey}:${event.state}`.slice(0, 128),
            }
          : {}),
      }),
    );
  }
}
