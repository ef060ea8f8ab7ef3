// @ts-check
// Shapes of the public API, for type-checking only: no page loads this file.

/**
 * The session's shapes come from the server's own definitions (server/model/), so they are written once.
 * @typedef {import('../../server/model/session.js').SingerRef} SingerRef
 * @typedef {import('../../server/model/session.js').SongRequest} SongRequest
 * @typedef {import('../../server/model/public-state.js').PublicRequest} QueuedRequest
 * @typedef {import('../../server/model/public-state.js').PublicNowSinging} NowSinging
 * @typedef {import('../../server/model/session.js').PastRequest} PastRequest
 * @typedef {import('../../server/model/session.js').Status} Status
 * @typedef {import('../../server/model/session.js').Rotation} Rotation
 * @typedef {import('../../server/model/session.js').RequestMode} RequestMode
 * @typedef {NonNullable<PublicState['songbook']>} SongbookSummary
 * @typedef {import('../../server/model/public-state.js').PublicState} PublicState
 * @typedef {import('../../server/model/public-state.js').HistoryPage} HistoryPage GET /api/sessions/:id/history
 * @typedef {{ session: PublicState, hostKey: string, joinUrl: string, qrUrl: string, displayUrl: string, hostUrl: string }} CreatedSession
 * @typedef {'connecting' | 'live' | 'reconnecting' | 'ended'} LinkStatus
 *
 * @typedef {import('../../server/model/song.js').Song} Song
 * @typedef {{ results: Song[], total: number }} SongSearchAnswer GET /api/sessions/:id/songs
 * @typedef {{ songs: Song[], updatedAt: string }} Songbook GET /api/sessions/:id/songbook
 * @typedef {'csv' | 'csv-semicolon' | 'tsv' | 'csv-headerless' | 'lines'} SongbookFormat
 * @typedef {{ songs: number, skipped: { line: number, reason: string }[], skippedCount: number, format: SongbookFormat }} SongbookUpload
 *   PUT /api/sessions/:id/songbook; `skipped` holds the first 50
 * @typedef {{ line: number, text: string }} BadLine in an `invalid_songbook` error
 * @typedef {import('../../server/model/night.js').NightSummary} PastNight
 *   GET /api/sessions/:id/nights, newest first
 */

export {};
