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
