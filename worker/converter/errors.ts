/** The input could not be opened or holds nothing we can decode. */
export class SourceOpenError extends Error {
  constructor(
    message: string,
    readonly source: string,
  ) {
    super(message);
    this.name = 'SourceOpenError';
  }
}

/** ffmpeg produced no media for longer than the watchdog allows. */
export class ConverterStallError extends Error {
  constructor(readonly stalledSeconds: number) {
    super(`ffmpeg produced no media for ${stalledSeconds.toFixed(1)} s`);
    this.name = 'ConverterStallError';
  }
}
