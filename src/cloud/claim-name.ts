/**
 * The name a claimed file takes in the processing folder: its id (unique, so no clash) and a short
 * extension when it has one. Not `${id}-${name}`: a name near the service's limit (Box 255
 * characters, SharePoint 400 for the path) would make every claim fail, for ever.
 */
export function claimName(id: string, name: string): string {
  const ext = /\.[A-Za-z0-9]{1,8}$/.exec(name)?.[0] ?? '';
  return `${id}${ext}`;
}
