/** The `grants` projection has not applied an event that a read with `min_position` waits for. */
export class ProjectionBehindError extends Error {
  override readonly name = 'ProjectionBehindError';
  readonly code = 'projection.behind';

  constructor(
    readonly grantId: string,
    readonly requiredPosition: bigint,
    readonly waitedMs: number,
  ) {
    super(
      `the grants projection has not applied position ${requiredPosition} of grant ${grantId} within ${waitedMs} ms, so retry the read later`,
    );
  }
}
