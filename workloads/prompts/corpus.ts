/**
 * A deterministic synthetic English-like corpus: sentences of common words drawn by a seeded counter-based hash,
 * with commas, sentence marks and paragraphs. No network and no embedded book: a prompt of any length is a pure
 * function of (seed, stream), and a 128K-token prompt is generated in milliseconds.
 *
 * The text is produced as segments, each ` word` plus any punctuation after it (a paragraph break and the next
 * paragraph's first word stay in the same segment). Every segment starts with a space and an ASCII letter and ends
 * in a printable non-space character, so every join between two segments is a clean split for the tokenizer
 * (tokenizer.ts, `isCleanSplit`) and a segment's tokens can be cached and concatenated.
 */
import { elementHash, hashKey, unitFromHash } from '../patterns/random.js';

// Frequent short words, drawn often so that the text reads (and tokenizes) roughly like English prose.
const FUNCTION_WORDS = (
  'the of and to a in is it that was for on are as with his they at be this from have or by one had not but what ' +
  'all were when we there can an your which their said if do will each about how up out them then she many some so ' +
  'these would other into has more her two like him could no than been its who now my over did down only may after'
).split(' ');

// Common nouns, verbs, adjectives and adverbs (almost all single Llama 3 tokens with a leading space).
const CONTENT_WORDS = (
  'time people way water words long little number sound work place years live back give most thing name good ' +
  'sentence man think say great where help through line right too mean old any same tell boy follow came want ' +
  'show also around form three small set put end does another large must big even such because turn here why ask ' +
  'went men read need land different home us move try kind hand picture again change off play spell air away ' +
  'animal house point page letter mother answer found study still learn should world high every near add food ' +
  'between own below country plant last school father keep tree never start city earth eyes light thought head ' +
  'under story saw left few while along might close something seem next hard open example begin life always ' +
  'those both paper together got group often run important until children side feet car mile night walk white ' +
  'sea began grow took river four carry state once book hear stop without second later miss idea enough eat face ' +
  'watch far really almost let above girl sometimes mountains cut young talk soon list song being leave family ' +
  'body music color stand sun questions fish area mark dog horse birds problem complete room knew since ever ' +
  'piece told usually friends easy heard order red door sure become top ship across today during short better ' +
  'best however low hours black products happened whole measure remember early waves reached listen wind rock ' +
  'space covered fast several hold himself toward five step morning passed vowel true hundred against pattern ' +
  'table north slowly money map farm pulled draw voice seen cold cried plan notice south sing war ground fall ' +
  'king town unit figure certain field travel wood fire upon done English road half ten fly gave box finally ' +
  'wait correct oh quickly person became shown minutes strong verb stars front feel fact inches street decided ' +
  'contain course surface produce building ocean class note nothing rest carefully scientists inside wheels stay ' +
  'green known island week less machine base ago stood plane system behind ran round boat game force brought ' +
  'understand warm common bring explain dry though language shape deep thousands yes clear equation yet ' +
  'government filled heat full hot check object bread rule among noun power cannot able six size dark ball ' +
  'material special heavy fine pair circle include built'
).split(' ');

const FUNCTION_SHARE = 0.4;
const SENTENCE_WORDS = [5, 18] as const; // inclusive range of words per sentence
const PARAGRAPH_SENTENCES = [3, 7] as const; // inclusive range of sentences per paragraph
const COMMA_CHANCE = 0.07; // after a word that is neither first nor last in its sentence

/** Average characters per Llama 3 token of this corpus (measured: 4.75); used only to size text up front. */
export const CORPUS_CHARS_PER_TOKEN = 4.75;

interface Word {
  text: string;
  /** Punctuation right after the word: '', ',' or the sentence mark. */
  mark: string;
  /** A paragraph break follows (after `mark`). */
  breakAfter: boolean;
}

/**
 * An endless stream of corpus segments for (seed, stream). Each draw is a pure function of (seed, stream, draw
 * index), so the sequence does not depend on how it is consumed.
 */
export class CorpusWriter {
  private readonly key: number;
  private draw = 0;
  private sentenceLeft = 0;
  private paragraphLeft = 0;

  constructor(seed: number, stream = 0) {
    this.key = hashKey(seed, stream, 0x70726d70); // 'prmp': keeps these draws apart from other users of the seed
  }

  /** The next segment: ` Word`, ` word,`, ` word.` or ` word.\n\nNext` (see the module comment). */
  nextSegment(): string {
    let word = this.makeWord();
    let segment = ' ' + word.text + word.mark;
    while (word.breakAfter) {
      word = this.makeWord();
      segment += '\n\n' + word.text + word.mark;
    }
    return segment;
  }

  private makeWord(): Word {
    const first = this.sentenceLeft === 0;
    if (first) {
      if (this.paragraphLeft === 0) this.paragraphLeft = this.intIn(PARAGRAPH_SENTENCES);
      this.sentenceLeft = this.intIn(SENTENCE_WORDS);
    }
    const list = this.unit() < FUNCTION_SHARE ? FUNCTION_WORDS : CONTENT_WORDS;
    let text = list[Math.floor(this.unit() * list.length)];
    if (first) text = text[0].toUpperCase() + text.slice(1);
    this.sentenceLeft -= 1;
    if (this.sentenceLeft > 0) {
      const comma = !first && this.sentenceLeft > 1 && this.unit() < COMMA_CHANCE;
      return { text, mark: comma ? ',' : '', breakAfter: false };
    }
    this.paragraphLeft -= 1;
    const u = this.unit();
    const mark = u < 0.9 ? '.' : u < 0.97 ? '?' : '!';
    return { text, mark, breakAfter: this.paragraphLeft === 0 };
  }

  private unit(): number {
    return unitFromHash(elementHash(this.key, this.draw++));
  }

  private intIn([lo, hi]: readonly [number, number]): number {
    return lo + Math.floor(this.unit() * (hi - lo + 1));
  }
}

/** At least `minChars` characters of corpus text for (seed, stream), starting with a capitalised word. */
export function corpusText(seed: number, minChars: number, stream = 0): string {
  const writer = new CorpusWriter(seed, stream);
  const parts: string[] = [];
  let length = -1; // the leading space of the first segment is dropped
  while (length < minChars) {
    const segment = writer.nextSegment();
    parts.push(segment);
    length += segment.length;
  }
  return parts.join('').slice(1);
}
