// Sensor exports reach us from files, stdin and HTTP bodies; Windows tooling and some log shippers write UTF-16.

export interface DecodedInput {
  text: string;
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be';
  bom: boolean;
}

export function decodeInput(input: string | Uint8Array): DecodedInput {
  if (typeof input === 'string') {
    const bom = input.charCodeAt(0) === 0xfeff;
    return { text: bom ? input.slice(1) : input, encoding: 'utf-8', bom };
  }
  const b = input;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(b.subarray(3)), encoding: 'utf-8', bom: true };
  }
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) {
    return { text: new TextDecoder('utf-16le').decode(b.subarray(2)), encoding: 'utf-16le', bom: true };
  }
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
    return { text: new TextDecoder('utf-16be').decode(b.subarray(2)), encoding: 'utf-16be', bom: true };
  }
  // Without a BOM, UTF-16 text of ASCII JSON shows a zero in every other byte; UTF-8 JSON never holds NUL. The zeros
  // must run on past the first characters: binary data that happens to start that way decoded as UTF-16 comes out
  // as a screenful of random CJK, not as the "binary data" it is.
  if (b.length >= 4 && b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0 && mostlyZero(b, 1)) {
    return { text: new TextDecoder('utf-16le').decode(b), encoding: 'utf-16le', bom: false };
  }
  if (b.length >= 4 && b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0 && mostlyZero(b, 0)) {
    return { text: new TextDecoder('utf-16be').decode(b), encoding: 'utf-16be', bom: false };
  }
  return { text: new TextDecoder('utf-8').decode(b), encoding: 'utf-8', bom: false };
}

// Whether most of the bytes at one parity of the first 512 are zero, as the high bytes of mostly-ASCII UTF-16 are.
function mostlyZero(b: Uint8Array, parity: 0 | 1): boolean {
  const end = Math.min(b.length, 512);
  let zeros = 0;
  let all = 0;
  for (let i = parity; i < end; i += 2) {
    all++;
    if (b[i] === 0) zeros++;
  }
  return zeros * 2 >= all;
}
