/**
 * One incident per cause. Some alarms explain others: while the source of a stream is lost, its
 * playlists fail, its segments fail, its transport stream breaks and the decoder that re-joins it
 * sees damage — symptoms of the one outage, not faults of their own. INHIBIT_RULES says which alarm
 * inhibits which and for how long (Alertmanager's inhibit rules are the model); this class applies
 * them to one stream's events, between the alarm trackers and whatever sends the events on:
 *
 * - A symptom raised while its cause is open, or within `holdSeconds` after the cause cleared, is
 *   held back. If it clears while held it is never sent; the cause's clear names every type held
 *   back during its episode (`detail.inhibited`, `detail.inhibitedCount`). One still open when the
 *   inhibition ends is raised then, with its own start: a fault that outlasts the outage is paged.
 *   A symptom raised while its cause was open is held at least its own clear delay after the
 *   cause (a flapping transport or delivery alarm clears a whole flap window after its last
 *   error, later than its cause may): one that ended with its cause is not paged for clearing
 *   more slowly. One raised during the hold is a fault of its own if it outlasts the hold.
 * - A symptom can come before its cause (segments fail at once; the loss rule waits for its
 *   allowance): with `waitForSource`, a symptom's raise waits up to `pendingSeconds` (the loss
 *   rule's allowance) for the cause, and is sent when the wait ends without one. A clear while
 *   waiting sends both: nothing real is hidden.
 *
 * A rule's cause inhibits symptoms of the whole stream; a cause that names a rendition (an HLS or
 * DASH ladder) inhibits only that rendition's symptoms.
 */
import type { DefectEvent, DefectType } from '../../shared/events.js';

export interface InhibitRule {
  /** The alarm that explains the others. */
  source: DefectType;
  /** What it explains: types, or a family with `*` (`delivery.*`). */
  targets: readonly string[];
  /** Seconds after the source clears during which its symptoms are still held back. */
  holdSeconds: number;
  /** Symptoms raised before the source wait for it (up to the source's allowance). */
  waitForSource: boolean;
  /** Why, for the README's table. */
  why: string;
}

export const INHIBIT_RULES: readonly InhibitRule[] = [
  {
    source: 'stream.loss',
    targets: ['delivery.*', 'transport.*', 'video.corruption', 'scte35.*'],
    holdSeconds: 10,
    waitForSource: true,
    why: 'an origin or feed outage fails playlists and segments, breaks the transport stream (and its cues), and the decoder re-joining it sees damage',
  },
  {
    source: 'ad.break',
    targets: ['video.black', 'video.freeze', 'audio.silence'],
    // A dark stretch clears 2 s of media after it ends, decoded a little after the return cue.
    holdSeconds: 5,
    waitForSource: false,
    why: 'breaks go to black and silence between spots, and slates hold still: signalled, they are not defects unless they outlast the break',
  },
  {
    source: 'video.slate',
    targets: ['video.black', 'video.freeze', 'audio.silence'],
    holdSeconds: 5,
    waitForSource: false,
    why: "the stream's own slate (a configured picture) holds still, often over silence: on screen, it is not a defect",
  },
  {
    source: 'transport.sync',
    targets: [
      'transport.continuity',
      'transport.pcr',
      'transport.pat',
      'transport.pmt',
      'transport.pid',
      'transport.error',
    ],
    holdSeconds: 5,
    waitForSource: false,
    why: 'without packet sync nothing else in the transport stream can be read (TR 101 290 priority 1 first)',
  },
];

/** Past a held symptom's clear delay: the ticks (500 ms) and media running behind the wall clock. */
const RELEASE_SLACK_SECONDS = 2;

const matches = (pattern: string, type: string) =>
  pattern.endsWith('*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;

/** The rendition an event is about ('' for the whole stream). */
const subjectOf = (e: DefectEvent) => (typeof e.detail.rendition === 'object' ? e.detail.rendition.uri : '');

interface Cause {
  rule: InhibitRule;
  subject: string;
  /** Wall ms the source cleared; null while open. */
  clearedAt: number | null;
  /** Types held back during this episode, and how many incidents. */
  held: Set<string>;
  count: number;
}

export class Inhibitor {
  /** Open (or recently cleared) causes by source type and subject. */
  private readonly causes = new Map<string, Cause>();
  /**
   * Symptoms held back by a cause, by dedupKey: sent if still open when the inhibition ends,
   * which lasts `atLeast` seconds after the cause cleared (a symptom raised while it was open).
   */
  private readonly held = new Map<string, { event: DefectEvent; atLeast: number }>();
  /** Symptoms waiting for their cause, by dedupKey, with when the wait ends (wall ms). */
  private readonly pending = new Map<string, { event: DefectEvent; until: number }>();

  constructor(
    private readonly send: (event: DefectEvent) => void,
    /** The types this stream runs: a rule whose source is off never holds anything back. */
    enabled: readonly DefectType[],
    /** How long a symptom waits for a source of `waitForSource` rules (the loss rule's allowance). */
    private readonly pendingSeconds: (source: DefectType) => number,
    /** The longest a symptom's alarm stays raised after its condition ends (its flap window). */
    private readonly clearDelaySeconds: (type: DefectType) => number = () => 0,
    private readonly rules: readonly InhibitRule[] = INHIBIT_RULES,
  ) {
    this.rules = rules.filter((r) => enabled.includes(r.source));
  }

  /** An event from the stream's trackers. */
  push(event: DefectEvent, now = Date.now()): void {
    const source = this.rules.find((r) => r.source === event.type);
    if (source) this.cause(source, event, now);
    else if (!this.rulesFor(event).length) this.send(event);
    else if (event.state === 'raised') this.symptomRaised(event, now);
    else this.symptomCleared(event);
  }

  private symptomRaised(event: DefectEvent, now: number): void {
    const rules = this.rulesFor(event);
    const cause = this.inhibiting(rules, event, now);
    if (cause) {
      this.hold(cause, event);
      return;
    }
    const wait = Math.max(
      0,
      ...rules.filter((r) => r.waitForSource).map((r) => this.pendingSeconds(r.source)),
    );
    if (wait > 0) this.pending.set(event.dedupKey, { event, until: now + wait * 1000 });
    else this.send(event);
  }

  /** A clear: of a symptom held back (never sent: dropped), of one waiting (both sent), or of one sent. */
  private symptomCleared(event: DefectEvent): void {
    if (this.held.delete(event.dedupKey)) return;
    const waiting = this.pending.get(event.dedupKey);
    if (waiting) {
      this.pending.delete(event.dedupKey);
      this.send(waiting.event);
    }
    this.send(event);
  }

  /** Re-opens a cause raised before a restart (its symptoms are held back as before). */
  restore(event: DefectEvent): void {
    const rule = this.rules.find((r) => r.source === event.type);
    if (rule && event.state === 'raised') this.open(rule, event);
  }

  /** Sends what waited long enough, and what a cause no longer holds back. Call every ~500 ms. */
  tick(now = Date.now()): void {
    for (const [key, { event, until }] of this.pending)
      if (until <= now) {
        this.pending.delete(key);
        this.send(event);
      }
    for (const [key, { event, atLeast }] of this.held)
      if (!this.inhibiting(this.rulesFor(event), event, now, atLeast)) {
        this.held.delete(key);
        this.send(event);
      }
    const longest = Math.max(0, ...[...this.held.values()].map((h) => h.atLeast));
    for (const [key, cause] of this.causes)
      if (
        cause.clearedAt !== null &&
        now - cause.clearedAt >= Math.max(cause.rule.holdSeconds, longest) * 1000
      )
        this.causes.delete(key);
  }

  private rulesFor(event: DefectEvent): InhibitRule[] {
    return this.rules.filter((r) => r.targets.some((p) => matches(p, event.type)));
  }

  /**
   * The open or holding cause of one of these rules that covers the event's subject; a cleared
   * cause holds for its rule's hold, or `atLeast` seconds when that is longer.
   */
  private inhibiting(rules: InhibitRule[], event: DefectEvent, now: number, atLeast = 0): Cause | null {
    const subject = subjectOf(event);
    for (const cause of this.causes.values()) {
      if (!rules.includes(cause.rule)) continue;
      if (cause.subject !== '' && cause.subject !== subject) continue;
      const hold = Math.max(cause.rule.holdSeconds, atLeast) * 1000;
      if (cause.clearedAt === null || now - cause.clearedAt < hold) return cause;
    }
    return null;
  }

  private hold(cause: Cause, event: DefectEvent): void {
    // Raised while the cause was open: its clear may lag the cause's by its own clear delay.
    const atLeast = cause.clearedAt === null ? this.clearDelaySeconds(event.type) + RELEASE_SLACK_SECONDS : 0;
    this.held.set(event.dedupKey, { event, atLeast });
    cause.held.add(event.type);
    cause.count++;
  }

  private open(rule: InhibitRule, event: DefectEvent): Cause {
    const key = `${rule.source}|${subjectOf(event)}`;
    const cause: Cause = { rule, subject: subjectOf(event), clearedAt: null, held: new Set(), count: 0 };
    this.causes.set(key, cause);
    return cause;
  }

  private cause(rule: InhibitRule, event: DefectEvent, now: number): void {
    if (event.state === 'raised') {
      const cause = this.open(rule, event);
      this.send(event);
      // Symptoms that came first and waited: they were this cause's.
      for (const [key, { event: symptom }] of this.pending)
        if (this.inhibiting(this.rulesFor(symptom), symptom, now) === cause) {
          this.pending.delete(key);
          this.hold(cause, symptom);
        }
      return;
    }
    const cause = this.causes.get(`${rule.source}|${subjectOf(event)}`);
    if (cause && cause.clearedAt === null) cause.clearedAt = now;
    if (!cause?.count) {
      this.send(event);
      return;
    }
    this.send({
      ...event,
      detail: { ...event.detail, inhibited: [...cause.held].sort().join(', '), inhibitedCount: cause.count },
    });
  }
}
