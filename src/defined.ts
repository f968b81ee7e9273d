/**
 * The fields that hold a value, for spreading into an object with optional fields: an absent
 * field stays absent (in JSON state, manifests and `toStrictEqual`) rather than becoming `undefined`.
 */
export function defined<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
