// Indonesian (default) and English labels of the viewer.

const STRINGS = {
  id: {
    'app.title': 'Peta Badung Smart City',
    'app.subtitle': 'Kabupaten Badung, Bali',
    'lang.switch': 'EN',
    'lang.switch.label': 'Switch to English',
    'panel.toggle': 'Lapisan',
    'panel.toggle.label': 'Tampilkan atau sembunyikan daftar lapisan',
    'panel.title': 'Lapisan peta',
    'panel.empty': 'Belum ada lapisan',
    'panel.always': 'selalu tampil',
    'panel.more': 'menampilkan {n} dari {m}; perbesar peta untuk melihat semua',
    'panel.tiled': 'disederhanakan pada skala ini; perbesar peta untuk melihat rinciannya',
    'panel.loading': 'memuat…',
    'legend.title': 'Legenda',
    'legend.empty': 'Pilih lapisan untuk menampilkannya di peta.',
    'internal': 'internal',
    'internal.label': 'Lapisan internal: hanya untuk pimpinan dan OPD',
    'features': '{n} objek',
    'search.label': 'Cari tempat',
    'search.placeholder': 'Cari pura, pantai, sekolah…',
    'search.none': 'Tidak ditemukan',
    'search.results': 'Hasil pencarian',
    'login.open': 'Masuk',
    'login.title': 'Masuk untuk pimpinan dan staf OPD',
    'login.name': 'Nama pengguna',
    'login.password': 'Kata sandi',
    'login.submit': 'Masuk',
    'login.cancel': 'Batal',
    'login.otp': 'Kode autentikator (jika akun Anda memakainya)',
    'login.failed': 'Nama pengguna, kata sandi atau kode autentikator salah.',
    'login.totpRequired': 'Akun Anda wajib memakai faktor kedua (aplikasi autentikator) tetapi belum memilikinya. Minta administrator menjalankan "bsc user totp" untuk akun Anda.',
    'login.throttled': 'Terlalu banyak percobaan. Coba lagi nanti.',
    'logout': 'Keluar',
    'role.admin': 'admin',
    'role.leader': 'pimpinan',
    'role.opd_staff': 'staf OPD',
    'manage.open': 'Lapisan saya',
    'manage.title': 'Lapisan saya',
    'manage.none': 'Belum ada lapisan milik OPD Anda.',
    'manage.versions': 'Versi',
    'manage.current': 'versi tayang',
    'manage.latest': 'versi terbaru',
    'manage.status': 'Status',
    'manage.layer': 'Lapisan',
    'manage.updated': 'Diperbarui',
    'manage.detail': 'Riwayat versi: {layer}',
    'manage.preview': 'Pratinjau',
    'manage.publish': 'Terbitkan',
    'manage.publish.version': 'Terbitkan versi {v}',
    'manage.published': 'Versi {v} dari {layer} telah terbit.',
    'manage.rollback': 'Kembalikan',
    'manage.rollback.label': 'Kembalikan ke versi',
    'manage.rollback.done': '{layer} kembali ke versi {v}.',
    'manage.rollback.none': 'tidak ada versi lain',
    'manage.newversion': 'Unggah versi baru',
    'manage.by': 'oleh {who}',
    'status.draft': 'draf',
    'status.published': 'terbit',
    'status.rejected': 'ditolak',
    'upload.title': 'Unggah data',
    'upload.target': 'Tujuan',
    'upload.target.new': 'Lapisan baru',
    'upload.target.version': 'Versi baru dari {layer}',
    'upload.drop': 'Tarik dan lepas berkas di sini, atau pilih berkas',
    'upload.formats': 'GeoJSON, Shapefile (.zip), KML/KMZ, CSV, GeoPackage, FlatGeobuf',
    'upload.file': 'Berkas',
    'upload.id': 'ID lapisan (huruf kecil, angka, tanda hubung)',
    'upload.category': 'Kategori',
    'upload.title_id': 'Judul (Bahasa Indonesia)',
    'upload.title_en': 'Judul (Bahasa Inggris)',
    'upload.visibility': 'Akses',
    'upload.submit': 'Unggah dan periksa',
    'upload.progress': 'Kemajuan unggahan',
    'upload.checking': 'Memeriksa berkas…',
    'upload.ok': 'Versi {v} dari {layer} tersimpan sebagai draf. Periksa pratinjau lalu terbitkan.',
    'upload.rejected': 'Berkas ditolak: {n} kesalahan. Tidak ada yang berubah di peta.',
    'upload.failed': 'Unggahan gagal: {detail}',
    'upload.nofile': 'Pilih berkas terlebih dahulu.',
    'visibility.public': 'publik',
    'visibility.internal': 'internal',
    'report.title': 'Laporan validasi',
    'report.format': 'Format',
    'report.read': 'Objek dibaca',
    'report.valid': 'Objek valid',
    'report.types': 'Jenis geometri',
    'report.bbox': 'Cakupan',
    'report.crs': 'Sistem koordinat asal',
    'report.schema': 'Atribut',
    'report.field': 'Nama',
    'report.type': 'Tipe',
    'report.count': 'Terisi',
    'report.errors': 'Kesalahan ({n})',
    'report.warnings': 'Peringatan ({n})',
    'report.feature': 'objek #{i}',
    'report.more': '…dan {n} lainnya',
    'preview.on': 'Pratinjau {layer} versi {v} di peta',
    'preview.clear': 'Tutup pratinjau',
    'photo.add': 'Tambah foto',
    'photo.file': 'Foto (JPEG, PNG, WebP)',
    'photo.caption': 'Keterangan foto',
    'photo.submit': 'Unggah foto',
    'photo.done': 'Foto ditambahkan.',
    'overview.open': 'Ikhtisar OPD',
    'overview.title': 'Ikhtisar lapisan per OPD',
    'overview.agency': 'OPD',
    'overview.layer': 'Lapisan',
    'overview.category': 'Kategori',
    'overview.visibility': 'Akses',
    'overview.features': 'Jumlah objek',
    'overview.version': 'Versi',
    'overview.updated': 'Pembaruan terakhir',
    'overview.total': '{n} lapisan, {f} objek',
    'close': 'Tutup',
    'map.label': 'Peta Kabupaten Badung',
    'error.load': 'Gagal memuat {what}: {detail}',
    'error.generic': 'Terjadi kesalahan: {detail}',
    'popup.layer': 'Lapisan',
    'popup.nophoto': '',
    'outline.regency': 'Batas kabupaten',
    'outline.kecamatan': 'Batas kecamatan',
    'share.open': 'Bagikan',
    'share.copy': 'Salin tautan',
    'share.copied': 'Tautan tersalin.',
    'share.copy.manual': 'Tautan belum tersalin: salin dari kotak di atas.',
    'share.link': 'Tautan tempat ini',
    'share.whatsapp': 'WhatsApp',
    'share.qr': 'Kode QR',
    'share.qr.alt': 'Kode QR tautan ke {name}',
    'share.qr.print': 'Buka untuk dicetak',
    'share.missing': 'Tempat ini tidak ditemukan atau tidak dapat ditampilkan.',
    'share.failed': 'Tempat ini tidak dapat dimuat ({detail}).',
    'locate': 'Lokasi saya',
    'locate.label': 'Pusatkan peta pada lokasi saya',
    'locate.busy': 'Mencari lokasi Anda…',
    'locate.here': 'Anda di sini (± {m} m)',
    'locate.denied': 'Izin lokasi ditolak. Izinkan akses lokasi untuk situs ini di pengaturan peramban.',
    'locate.unavailable': 'Lokasi Anda tidak tersedia di perangkat atau koneksi ini.',
    'legend.open': 'Legenda',
    'legend.open.label': 'Tampilkan legenda peta',
  },
  en: {
    'app.title': 'Badung Smart City Map',
    'app.subtitle': 'Badung Regency, Bali',
    'lang.switch': 'ID',
    'lang.switch.label': 'Ganti ke Bahasa Indonesia',
    'panel.toggle': 'Layers',
    'panel.toggle.label': 'Show or hide the layer list',
    'panel.title': 'Map layers',
    'panel.empty': 'No layers yet',
    'panel.always': 'always shown',
    'panel.more': 'showing {n} of {m}; zoom in to see all',
    'panel.tiled': 'simplified at this scale; zoom in for every detail',
    'panel.loading': 'loading…',
    'legend.title': 'Legend',
    'legend.empty': 'Choose a layer to show it on the map.',
    'internal': 'internal',
    'internal.label': 'Internal layer: for leaders and agencies only',
    'features': '{n} features',
    'search.label': 'Search places',
    'search.placeholder': 'Search temples, beaches, schools…',
    'search.none': 'Nothing found',
    'search.results': 'Search results',
    'login.open': 'Sign in',
    'login.title': 'Sign in for leaders and agency staff',
    'login.name': 'User name',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.cancel': 'Cancel',
    'login.otp': 'Authenticator code (if your account uses one)',
    'login.failed': 'Wrong user name, password or authenticator code.',
    'login.totpRequired': 'Your account must use a second factor (an authenticator app) but has none yet. Ask an administrator to run "bsc user totp" for your account.',
    'login.throttled': 'Too many attempts. Try again later.',
    'logout': 'Sign out',
    'role.admin': 'admin',
    'role.leader': 'leader',
    'role.opd_staff': 'agency staff',
    'manage.open': 'My layers',
    'manage.title': 'My layers',
    'manage.none': 'Your agency has no layers yet.',
    'manage.versions': 'Versions',
    'manage.current': 'live version',
    'manage.latest': 'newest version',
    'manage.status': 'Status',
    'manage.layer': 'Layer',
    'manage.updated': 'Updated',
    'manage.detail': 'Version history: {layer}',
    'manage.preview': 'Preview',
    'manage.publish': 'Publish',
    'manage.publish.version': 'Publish version {v}',
    'manage.published': 'Version {v} of {layer} is published.',
    'manage.rollback': 'Roll back',
    'manage.rollback.label': 'Roll back to version',
    'manage.rollback.done': '{layer} is back at version {v}.',
    'manage.rollback.none': 'no other version',
    'manage.newversion': 'Upload a new version',
    'manage.by': 'by {who}',
    'status.draft': 'draft',
    'status.published': 'published',
    'status.rejected': 'rejected',
    'upload.title': 'Upload data',
    'upload.target': 'Destination',
    'upload.target.new': 'New layer',
    'upload.target.version': 'New version of {layer}',
    'upload.drop': 'Drag and drop a file here, or choose a file',
    'upload.formats': 'GeoJSON, Shapefile (.zip), KML/KMZ, CSV, GeoPackage, FlatGeobuf',
    'upload.file': 'File',
    'upload.id': 'Layer id (lower case, digits, dashes)',
    'upload.category': 'Category',
    'upload.title_id': 'Title (Indonesian)',
    'upload.title_en': 'Title (English)',
    'upload.visibility': 'Access',
    'upload.submit': 'Upload and check',
    'upload.progress': 'Upload progress',
    'upload.checking': 'Checking the file…',
    'upload.ok': 'Version {v} of {layer} is saved as a draft. Check the preview, then publish.',
    'upload.rejected': 'The file was rejected: {n} error(s). Nothing changed on the map.',
    'upload.failed': 'Upload failed: {detail}',
    'upload.nofile': 'Choose a file first.',
    'visibility.public': 'public',
    'visibility.internal': 'internal',
    'report.title': 'Validation report',
    'report.format': 'Format',
    'report.read': 'Features read',
    'report.valid': 'Valid features',
    'report.types': 'Geometry types',
    'report.bbox': 'Extent',
    'report.crs': 'Source coordinate system',
    'report.schema': 'Properties',
    'report.field': 'Name',
    'report.type': 'Type',
    'report.count': 'Filled',
    'report.errors': 'Errors ({n})',
    'report.warnings': 'Warnings ({n})',
    'report.feature': 'feature #{i}',
    'report.more': '…and {n} more',
    'preview.on': 'Previewing {layer} version {v} on the map',
    'preview.clear': 'Close preview',
    'photo.add': 'Add a photo',
    'photo.file': 'Photo (JPEG, PNG, WebP)',
    'photo.caption': 'Caption',
    'photo.submit': 'Upload photo',
    'photo.done': 'Photo added.',
    'overview.open': 'Agency overview',
    'overview.title': 'Layers by agency',
    'overview.agency': 'Agency',
    'overview.layer': 'Layer',
    'overview.category': 'Category',
    'overview.visibility': 'Access',
    'overview.features': 'Features',
    'overview.version': 'Version',
    'overview.updated': 'Last update',
    'overview.total': '{n} layers, {f} features',
    'close': 'Close',
    'map.label': 'Map of Badung Regency',
    'error.load': 'Could not load {what}: {detail}',
    'error.generic': 'Something went wrong: {detail}',
    'popup.layer': 'Layer',
    'popup.nophoto': '',
    'outline.regency': 'Regency boundary',
    'outline.kecamatan': 'District boundaries',
    'share.open': 'Share',
    'share.copy': 'Copy link',
    'share.copied': 'Link copied.',
    'share.copy.manual': 'The link was not copied: copy it from the box above.',
    'share.link': 'Link to this place',
    'share.whatsapp': 'WhatsApp',
    'share.qr': 'QR code',
    'share.qr.alt': 'QR code of the link to {name}',
    'share.qr.print': 'Open to print',
    'share.missing': 'This place was not found or cannot be shown.',
    'share.failed': 'This place could not be loaded ({detail}).',
    'locate': 'My location',
    'locate.label': 'Centre the map on my location',
    'locate.busy': 'Finding your location…',
    'locate.here': 'You are here (± {m} m)',
    'locate.denied': 'Location permission was refused. Allow location access for this site in the browser settings.',
    'locate.unavailable': 'Your location is not available on this device or connection.',
    'legend.open': 'Legend',
    'legend.open.label': 'Show the map legend',
  },
};

/** Labels of known feature properties. */
const PROPS = {
  id: {
    nama: 'Nama', nama_en: 'Nama (Inggris)', alamat: 'Alamat', kecamatan: 'Kecamatan', desa: 'Desa/Kelurahan',
    banjar: 'Banjar', keterangan: 'Keterangan', jenis: 'Jenis', status: 'Status', telepon: 'Telepon',
    opd: 'OPD pengelola', tahun_data: 'Tahun data', rating: 'Penilaian', status_jalan: 'Status jalan',
    lebar_m: 'Lebar (m)', panjang_m: 'Panjang (m)', luas_ha: 'Luas (ha)', zona: 'Zona risiko',
    kasus_aktif: 'Kasus aktif', penerima_kk: 'Penerima (KK)', jenjang: 'Jenjang', jumlah_siswa: 'Jumlah siswa',
    sumber: 'Sumber', kode: 'Kode', kabupaten: 'Kabupaten', provinsi: 'Provinsi', email: 'Surel',
    website: 'Situs web', jam_buka: 'Jam buka', kapasitas: 'Kapasitas', pemilik: 'Pemilik', kondisi: 'Kondisi',
  },
  en: {
    nama: 'Name', nama_en: 'Name (English)', alamat: 'Address', kecamatan: 'District (kecamatan)',
    desa: 'Village (desa)', banjar: 'Banjar', keterangan: 'Notes', jenis: 'Type', status: 'Status',
    telepon: 'Phone', opd: 'Managing agency', tahun_data: 'Data year', rating: 'Rating',
    status_jalan: 'Road status', lebar_m: 'Width (m)', panjang_m: 'Length (m)', luas_ha: 'Area (ha)',
    zona: 'Risk zone', kasus_aktif: 'Active cases', penerima_kk: 'Recipients (households)',
    jenjang: 'School level', jumlah_siswa: 'Pupils', sumber: 'Source', kode: 'Code', kabupaten: 'Regency',
    provinsi: 'Province', email: 'E-mail', website: 'Website', jam_buka: 'Opening hours',
    kapasitas: 'Capacity', pemilik: 'Owner', kondisi: 'Condition',
  },
};

let current = (() => {
  try {
    const saved = localStorage.getItem('bsc.lang');
    if (saved === 'id' || saved === 'en') return saved;
  } catch { /* storage may be unavailable */ }
  return 'id';
})();

const listeners = [];

/** The current language, `id` or `en`. */
export function lang() {
  return current;
}

/** The label `key` in the current language with `{name}` placeholders filled in. */
export function t(key, vars = {}) {
  const s = STRINGS[current][key] ?? STRINGS.id[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] == null ? '' : String(vars[k])));
}

/**
 * The label `key` in both languages, the current one first: for messages
 * that must be understood whatever the page's language (a shared link that
 * cannot be shown, a refused location).
 */
export function both(key, vars = {}) {
  const other = current === 'id' ? 'en' : 'id';
  const fill = (s) => s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] == null ? '' : String(vars[k])));
  const first = t(key, vars);
  const second = fill(STRINGS[other][key] ?? STRINGS.id[key] ?? key);
  return first === second ? first : `${first} / ${second}`;
}

/** A label for the feature property `key`: known ones translated, others tidied. */
export function propLabel(key) {
  const known = PROPS[current][key];
  if (known) return known;
  const words = String(key).replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Formats a number the local way. */
export function num(n) {
  return Number(n).toLocaleString(current === 'id' ? 'id-ID' : 'en-GB');
}

/** Formats an ISO time as a local date and time. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(current === 'id' ? 'id-ID' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

/** A category's or layer's title in the current language. */
export function title(o) {
  if (!o) return '';
  return (current === 'en' ? o.title_en || o.title_id : o.title_id || o.title_en) || o.id || '';
}

/** Sets every `[data-i18n]` text and `[data-i18n-<attr>]` attribute under `root`. */
export function apply(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const attr of ['placeholder', 'aria-label', 'title']) {
    const data = `i18n${attr.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}`;
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[data]));
  }
}

/** Switches the language, relabels the page and tells every listener. */
export function setLang(l) {
  current = l === 'en' ? 'en' : 'id';
  try { localStorage.setItem('bsc.lang', current); } catch { /* ignore */ }
  apply();
  for (const fn of listeners) fn(current);
}

/** Calls `fn` after every language switch. */
export function onLang(fn) {
  listeners.push(fn);
}
