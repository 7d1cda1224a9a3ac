/**
 * A CommonJS package imported dynamically comes as `{ default: module.exports }`; its typings
 * (`export =`) describe module.exports itself. This gives module.exports either way.
 */
export const cjsDefault = <T>(m: T): T => (m as unknown as { default?: T }).default ?? m;
