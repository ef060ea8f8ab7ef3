/** An ISO time that is safe in a file name and still sorts by time: `2024-05-01T21-00-00-000Z`. */
export const fileSafeTimestamp = (at: Date): string => at.toISOString().replace(/[:.]/g, '-');
