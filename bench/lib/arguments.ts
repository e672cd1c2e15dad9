/** Reads `--name value` pairs from the command line into numbers and strings, with defaults. */
export function parseArguments<Defaults extends Record<string, number | string | boolean>>(
  argv: readonly string[],
  defaults: Defaults,
): Defaults {
  const result: Record<string, number | string | boolean> = { ...defaults };
  for (let index = 0; index < argv.length; index += 1) {
    const match = /^--([a-z][a-z-]*)$/.exec(argv[index]);
    const name = match?.[1].replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    if (!name || !(name in defaults)) {
      throw new Error(`unknown option ${argv[index]}; known options: ${Object.keys(defaults).map((key) => `--${key}`).join(', ')}`);
    }
    const fallback = defaults[name];
    if (typeof fallback === 'boolean') {
      result[name] = true;
      continue;
    }
    const value = argv[index + 1];
    if (value === undefined) throw new Error(`option --${match![1]} needs a value`);
    index += 1;
    if (typeof fallback === 'number') {
      const number = Number(value);
      if (!Number.isFinite(number) || number < 0) throw new Error(`option --${match![1]} must be a non-negative number, got ${value}`);
      result[name] = number;
    } else {
      result[name] = value;
    }
  }
  return result as Defaults;
}
