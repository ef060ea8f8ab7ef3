/**
 * Text a person typed that must render as typed: a name on the big screen, a song title. Control
 * characters are refused elsewhere (FORBIDDEN_CHARACTERS in model/session.ts); this refuses what
 * looks like nothing: a name of U+3164 HANGUL FILLER shows as a blank singer, tag characters
 * (U+E0000–U+E007F) smuggle hidden text, bidi controls reorder what follows, and a pile of combining
 * marks ("zalgo") draws over the lines above and below.
 */

/** Invisible and format-only characters (Default_Ignorable_Code_Point covers the Hangul fillers, U+034F and the tags). */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/u;

/** A ZWJ inside an emoji sequence (👨‍👩‍👧, 🏳️‍🌈, 👩🏽‍🚀): an emoji, maybe a skin tone or VS16, ZWJ, an emoji. */
const EMOJI_ZWJ = /(?<=\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\uFE0F]?)\u200D(?=\p{Extended_Pictographic})/gu;

/** VS15/VS16 right after a character that is drawn (❤️ is U+2764 U+FE0F). */
const VARIATION_SELECTOR = /(?<=[^\s\p{Default_Ignorable_Code_Point}\p{Cf}])[\uFE0E\uFE0F]/gu;

/** Something that draws: not a space, not invisible, not a mark alone, not the blank braille cell. */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}\p{M}\u2800]/u;

/** Half of a surrogate pair (String.prototype.isWellFormed, which ES2023's typings lack). No `u` flag: it sees code units. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const MAX_COMBINING_RUN = 4;
const COMBINING_RUN = new RegExp(`\\p{M}{${MAX_COMBINING_RUN + 1},}`, 'u');

/** Why this text would not render as typed, as the end of a sentence starting with the field's name; undefined when fine. */
export function invisibleTextProblem(text: string): string | undefined {
  if (text === '') return undefined;
  // Half of a surrogate pair is no character at all: it draws as � and costs six bytes as JSON.
  if (LONE_SURROGATE.test(text)) return 'must not contain broken characters (half of a surrogate pair)';
  if (!VISIBLE.test(text)) return 'must contain at least one visible character';
  if (INVISIBLE.test(text.replace(EMOJI_ZWJ, '').replace(VARIATION_SELECTOR, ''))) {
    return 'must not contain invisible or formatting characters';
  }
  if (COMBINING_RUN.test(text)) return `must not stack more than ${MAX_COMBINING_RUN} combining marks on one character`;
  return undefined;
}
