// @ts-check
// Shapes of the public API, for type-checking only: no page loads this file.

/**
 * @typedef {{ id: string, name: string }} SingerRef
 * @typedef {{ id: string, singer: SingerRef, title: string, artist: string, link: string | null, createdAt: string }} SongRequest
 * @typedef {SongRequest & { position: number, estimatedStartAt: string }} QueuedRequest
 * @typedef {SongRequest & { startedAt: string, estimatedEndAt: string }} NowSinging
 * @typedef {SongRequest & { startedAt: string, endedAt: string, outcome: 'sung' | 'skipped' }} PastRequest
 * @typedef {'open' | 'paused' | 'closed'} Status
 * @typedef {'fair' | 'fifo'} Rotation
 * @typedef {{
 *   id: string, name: string, status: Status, rotation: Rotation, maxQueuedPerSinger: number,
 *   endsAt: string | null, createdAt: string, updatedAt: string, version: number,
 *   joinUrl: string, qrUrl: string, displayUrl: string, generatedAt: string,
 *   averageSongSeconds: number, singerCount: number,
 *   nowSinging: NowSinging | null, queue: QueuedRequest[], history: PastRequest[],
 * }} PublicState
 * @typedef {{ session: PublicState, hostKey: string, joinUrl: string, qrUrl: string, displayUrl: string, hostUrl: string }} CreatedSession
 * @typedef {'connecting' | 'live' | 'reconnecting' | 'ended'} LinkStatus
 */

export {};
