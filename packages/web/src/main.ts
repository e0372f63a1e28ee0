/* eslint-disable max-lines -- Longer than our ~250-line limit on purpose: the views and dialogs share
 * one `ui` map and one session state, and without a framework to hold that state, splitting them would
 * pass it through every module. The parts that stand alone are already apart (api.ts, messages.ts).
 * Split when a third view arrives. */
import { ApiClient, ApiError, type ImageMeta } from './api.js';
import { formatBytes, messageFor } from './messages.js';

/** The whole app: two views (sign in, gallery), two dialogs (viewer, delete confirmation). No framework. */

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

const ui = {
  account: $('account'),
  accountEmail: $('account-email'),
  logout: $<HTMLButtonElement>('logout'),
  message: $('message'),
  error: $('error'),
  main: $('main'),
  authView: $('auth-view'),
  loginForm: $<HTMLFormElement>('login-form'),
  loginEmail: $<HTMLInputElement>('login-email'),
  loginPassword: $<HTMLInputElement>('login-password'),
  registerForm: $<HTMLFormElement>('register-form'),
  registerEmail: $<HTMLInputElement>('register-email'),
  registerPassword: $<HTMLInputElement>('register-password'),
  galleryView: $('gallery-view'),
  dropzone: $('dropzone'),
  fileInput: $<HTMLInputElement>('file-input'),
  uploadStatus: $('upload-status'),
  uploadLabel: $('upload-label'),
  uploadProgress: $<HTMLProgressElement>('upload-progress'),
  gallery: $<HTMLUListElement>('gallery'),
  empty: $('empty'),
  loadMore: $<HTMLButtonElement>('load-more'),
  viewer: $<HTMLDialogElement>('viewer'),
  viewerTitle: $('viewer-title'),
  viewerMeta: $('viewer-meta'),
  viewerImage: $<HTMLImageElement>('viewer-image'),
  viewerDelete: $<HTMLButtonElement>('viewer-delete'),
  viewerClose: $<HTMLButtonElement>('viewer-close'),
  confirm: $<HTMLDialogElement>('confirm'),
  confirmDelete: $<HTMLButtonElement>('confirm-delete'),
  confirmCancel: $<HTMLButtonElement>('confirm-cancel'),
};

const api = new ApiClient(window.sessionStorage, () => {
  showSignedOut();
  showError(messageFor({ status: 401, code: 'AUTH_REFRESH_INVALID' }));
});

// --- messages ---

function showMessage(text: string): void {
  ui.error.hidden = true;
  ui.message.textContent = text;
  ui.message.hidden = false;
}

function showError(text: string): void {
  ui.message.hidden = true;
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function clearMessages(): void {
  ui.message.hidden = true;
  ui.error.hidden = true;
}

function errorText(err: unknown): string {
  if (err instanceof ApiError) return messageFor(err.info);
  return messageFor({ status: 0, code: 'NETWORK_ERROR' });
}

async function busy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T | undefined> {
  button.disabled = true;
  try {
    return await work();
  } catch (err) {
    showError(errorText(err));
    return undefined;
  } finally {
    button.disabled = false;
  }
}

// --- views ---

function showSignedOut(): void {
  clearGallery();
  ui.account.hidden = true;
  ui.galleryView.hidden = true;
  ui.authView.hidden = false;
}

async function showSignedIn(): Promise<void> {
  ui.accountEmail.textContent = api.email ?? '';
  ui.account.hidden = false;
  ui.authView.hidden = true;
  ui.galleryView.hidden = false;
  clearGallery();
  await loadPage();
}

// --- gallery ---

interface Tile {
  meta: ImageMeta;
  item: HTMLLIElement;
  button: HTMLButtonElement;
  thumbUrl?: string;
}

const tiles = new Map<string, Tile>();
let nextCursor: string | null = null;

function clearGallery(): void {
  for (const tile of tiles.values()) if (tile.thumbUrl) URL.revokeObjectURL(tile.thumbUrl);
  tiles.clear();
  ui.gallery.replaceChildren();
  nextCursor = null;
  ui.loadMore.hidden = true;
  ui.empty.hidden = true;
}

function describe(meta: ImageMeta): string {
  return `${meta.width} × ${meta.height} px, ${formatBytes(meta.sizeBytes)}, uploaded ${new Date(meta.createdAt).toLocaleString()}`;
}

function addTile(meta: ImageMeta, position: 'start' | 'end'): void {
  if (tiles.has(meta.id)) return;
  const item = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.setAttribute('aria-label', `Open ${meta.filename}`);
  button.dataset.imageId = meta.id;
  const img = document.createElement('img');
  img.alt = meta.filename;
  img.width = 256;
  img.height = 256;
  const caption = document.createElement('span');
  caption.className = 'caption';
  caption.textContent = meta.filename;
  button.append(img, caption);
  item.append(button);
  if (position === 'start') ui.gallery.prepend(item);
  else ui.gallery.append(item);
  const tile: Tile = { meta, item, button };
  tiles.set(meta.id, tile);
  ui.empty.hidden = true;
  button.addEventListener('click', () => void openViewer(tile));
  void api
    .imageBlob(meta.id, 'thumbnail')
    .then((blob) => {
      if (!tiles.has(meta.id)) return;
      tile.thumbUrl = URL.createObjectURL(blob);
      img.src = tile.thumbUrl;
    })
    .catch((err: unknown) => {
      caption.textContent = `${meta.filename} (thumbnail unavailable)`;
      if (!(err instanceof ApiError && err.info.status === 404)) showError(errorText(err));
    });
}

function removeTile(id: string): void {
  const tile = tiles.get(id);
  if (!tile) return;
  if (tile.thumbUrl) URL.revokeObjectURL(tile.thumbUrl);
  tile.item.remove();
  tiles.delete(id);
  ui.empty.hidden = tiles.size > 0;
}

async function loadPage(): Promise<void> {
  try {
    const page = await api.listImages(nextCursor ?? undefined);
    for (const meta of page.items) addTile(meta, 'end');
    nextCursor = page.nextCursor;
    ui.loadMore.hidden = !nextCursor;
    ui.empty.hidden = tiles.size > 0;
  } catch (err) {
    showError(errorText(err));
  }
}

ui.loadMore.addEventListener('click', () => void busy(ui.loadMore, loadPage));

// --- upload ---

let uploading = false;

async function uploadFiles(files: readonly File[]): Promise<void> {
  if (uploading || files.length === 0) return;
  uploading = true;
  clearMessages();
  const done: string[] = [];
  try {
    for (const file of files) {
      ui.uploadStatus.hidden = false;
      ui.uploadLabel.textContent = `Uploading ${file.name}…`;
      ui.uploadProgress.value = 0;
      try {
        const meta = await api.upload(file, (fraction) => {
          ui.uploadProgress.value = Math.round(fraction * 100);
        });
        addTile(meta, 'start');
        done.push(meta.filename);
        showMessage(`Uploaded ${done.join(', ')}.`);
      } catch (err) {
        showError(`${file.name}: ${errorText(err)}`);
        if (err instanceof ApiError && err.info.status === 401) break;
      }
    }
  } finally {
    uploading = false;
    ui.uploadStatus.hidden = true;
    ui.fileInput.value = '';
  }
}

ui.fileInput.addEventListener('change', () => void uploadFiles(Array.from(ui.fileInput.files ?? [])));
for (const type of ['dragenter', 'dragover'] as const) {
  ui.dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    ui.dropzone.classList.add('dragging');
  });
}
ui.dropzone.addEventListener('dragleave', () => ui.dropzone.classList.remove('dragging'));
ui.dropzone.addEventListener('drop', (event) => {
  event.preventDefault();
  ui.dropzone.classList.remove('dragging');
  void uploadFiles(Array.from(event.dataTransfer?.files ?? []));
});

// --- viewer and delete ---

let viewing: Tile | undefined;
let viewerUrl: string | undefined;

async function openViewer(tile: Tile): Promise<void> {
  viewing = tile;
  ui.viewerTitle.textContent = tile.meta.filename;
  ui.viewerMeta.textContent = describe(tile.meta);
  ui.viewerImage.alt = tile.meta.filename;
  ui.viewerImage.removeAttribute('src');
  ui.viewer.showModal();
  try {
    const blob = await api.imageBlob(tile.meta.id, 'content');
    if (viewing !== tile) return;
    viewerUrl = URL.createObjectURL(blob);
    ui.viewerImage.src = viewerUrl;
  } catch (err) {
    ui.viewer.close();
    showError(errorText(err));
  }
}

ui.viewer.addEventListener('close', () => {
  if (viewerUrl) URL.revokeObjectURL(viewerUrl);
  viewerUrl = undefined;
  if (!ui.confirm.open) {
    const tile = viewing;
    viewing = undefined;
    if (tile && tiles.has(tile.meta.id)) tile.button.focus();
  }
});
ui.viewerClose.addEventListener('click', () => ui.viewer.close());
ui.viewerDelete.addEventListener('click', () => ui.confirm.showModal());
ui.confirmCancel.addEventListener('click', () => ui.confirm.close());
ui.confirmDelete.addEventListener(
  'click',
  () =>
    void busy(ui.confirmDelete, async () => {
      const tile = viewing;
      if (!tile) return;
      try {
        await api.deleteImage(tile.meta.id);
      } catch (err) {
        // Already gone is what the user wanted.
        if (!(err instanceof ApiError && err.info.code === 'IMAGES_NOT_FOUND')) throw err;
      }
      const index = [...tiles.keys()].indexOf(tile.meta.id);
      removeTile(tile.meta.id);
      viewing = undefined;
      ui.confirm.close();
      ui.viewer.close();
      showMessage(`Deleted ${tile.meta.filename}.`);
      const next = [...tiles.values()][Math.min(index, tiles.size - 1)];
      (next?.button ?? ui.fileInput).focus();
    }),
);

// --- sign up, log in, log out ---

function credentials(emailInput: HTMLInputElement, passwordInput: HTMLInputElement): { email: string; password: string } | undefined {
  const email = emailInput.value.trim();
  const password = passwordInput.value;
  if (!email || !emailInput.checkValidity()) {
    showError(messageFor({ status: 400, code: 'AUTH_EMAIL_INVALID' }));
    emailInput.focus();
    return undefined;
  }
  if (!password) {
    showError('Please enter a password.');
    passwordInput.focus();
    return undefined;
  }
  return { email, password };
}

ui.registerForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const input = credentials(ui.registerEmail, ui.registerPassword);
  if (!input) return;
  const button = ui.registerForm.querySelector('button')!;
  void busy(button, async () => {
    await api.register(input.email, input.password);
    ui.registerForm.reset();
    // A new user expects to land in the app (issue 15): log in with what was just typed. Register
    // returns no tokens on purpose; login stays their one source (services/auth/README.md).
    try {
      await api.login(input.email, input.password);
    } catch (err) {
      ui.loginEmail.value = input.email;
      ui.loginPassword.focus();
      throw err;
    }
    clearMessages();
    await showSignedIn();
    showMessage('Your account is ready. You are logged in.');
    ui.main.focus();
  });
});

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const input = credentials(ui.loginEmail, ui.loginPassword);
  if (!input) return;
  const button = ui.loginForm.querySelector('button')!;
  void busy(button, async () => {
    await api.login(input.email, input.password);
    ui.loginForm.reset();
    clearMessages();
    await showSignedIn();
    ui.main.focus();
  });
});

ui.logout.addEventListener(
  'click',
  () =>
    void busy(ui.logout, async () => {
      await api.logout();
      showSignedOut();
      showMessage('You have logged out.');
      ui.loginEmail.focus();
    }),
);

// --- start ---

if (api.signedIn) void showSignedIn();
else showSignedOut();
