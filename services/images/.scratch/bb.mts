import busboy from '@fastify/busboy';
for (const params of ["filename*=UTF-8''evil%0D%0AX.jpg", "filename*=UTF-8''evil%00.jpg", "filename*=UTF-8''%E2%80%AEgpj.exe", "filename*=UTF-8''evil%1B.jpg","filename=\"a\u0001b\u202e.jpg\""]) {
  const body = `--b\r\nContent-Disposition: form-data; name="file"; ${params}\r\nContent-Type: image/jpeg\r\n\r\nxyz\r\n--b--\r\n`;
  const bb = busboy({ headers: { 'content-type': 'multipart/form-data; boundary=b' } });
  bb.on('file', (name: string, file: NodeJS.ReadableStream, filename: string) => { console.log(params, 'file', JSON.stringify(filename)); file.resume(); });
  bb.on('field', (name: string, v: string) => console.log(params, 'field', name, v));
  bb.end(body);
}
