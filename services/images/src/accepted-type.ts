/** The image types the service accepts (sniffed from the bytes, never taken from the client). Its own
 * module so sniff.ts and strip/ import it one way. */
export type AcceptedType = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif' | 'image/avif';
