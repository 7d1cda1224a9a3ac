#!/usr/bin/env bash
# Vendor DICOM test corpus: real files from three Debian packages' test data, for the tests
# (test/helpers/corpus.ts, vendorFiles()). Siemens MR with CSA headers and an Enhanced SR
# (heudiconv), Siemens and a Philips Enhanced MR (python3-nibabel), a Varian RT Structure Set,
# ultrasound and CT (octave-dicom, from GDCM's gdcmData).
#
# The packages are fetched with `apt-get download` and unpacked with `dpkg -x`, never installed
# (their dependencies are huge), so the only network access is to the configured Debian mirrors.
# Files are flattened into one folder with deterministic names (<package>-<relative path>.dcm,
# '/' -> '-', anything outside [A-Za-z0-9._-] -> '_'), `.dcm.gz` files gunzipped.
#
# Usage: bash scripts/vendor-corpus.sh        (target: $DEID_VENDOR_CORPUS, or the default below)
# Idempotent: a target holding a `.complete` marker is left alone. `apt-get update` must have run.
set -euo pipefail

TARGET="${DEID_VENDOR_CORPUS:-/var/cache/deid-agent/vendor-corpus}"
PACKAGES=(heudiconv python3-nibabel octave-dicom)

if [[ -f "$TARGET/.complete" ]]; then
  exit 0
fi

die() { echo "vendor-corpus: $*" >&2; exit 1; }

parent="$(dirname "$TARGET")"
mkdir -p "$parent" || die "cannot create $parent (run as root, or set DEID_VENDOR_CORPUS)"

work="$(mktemp -d)"
stage="$(mktemp -d "$parent/.vendor-corpus.XXXXXX")"
cleanup() { rm -rf -- "$work" "$stage"; }
trap cleanup EXIT

# apt-get drops privileges to _apt for downloads when run as root; let it write here (it only
# warns otherwise).
if [[ $EUID -eq 0 ]] && id -u _apt >/dev/null 2>&1; then
  chown _apt "$work"
fi
(cd "$work" && apt-get download -qq "${PACKAGES[@]}") || die "apt-get download ${PACKAGES[*]} failed (did apt-get update run?)"
if [[ $EUID -eq 0 ]]; then chown root "$work"; fi
mkdir "$work/root"
for deb in "$work"/*.deb; do
  dpkg -x "$deb" "$work/root"
done

# 'DICM' at offset 128 of the file (of its decompressed content for .gz).
is_dicom() {
  local magic
  if [[ "$1" == *.gz ]]; then
    magic="$( (gzip -dc -- "$1" 2>/dev/null || true) | head -c 132 | tail -c +129 | od -An -tx1 | tr -d ' \n')"
  else
    magic="$(head -c 132 -- "$1" | tail -c +129 | od -An -tx1 | tr -d ' \n')"
  fi
  [[ "$magic" == 4449434d ]]
}

count=0
# vendor PREFIX DIR SUFFIXES [SKIP...]: the DICOM files below DIR whose names end with one of
# SUFFIXES ('any' for any), except the SKIP paths (relative to DIR).
vendor() {
  local prefix="$1" dir="$work/root$2" suffixes="$3" rel name dest ok s
  shift 3
  [[ -d "$dir" ]] || die "$dir is not in the packages any more"
  while IFS= read -r -d '' f; do
    rel="${f#"$dir"/}"
    ok=0
    for s in $suffixes; do [[ "$s" == any || "$rel" == *"$s" ]] && ok=1; done
    for s in "$@"; do [[ "$rel" == "$s" ]] && ok=0; done
    [[ $ok -eq 1 ]] || continue
    is_dicom "$f" || continue
    name="${rel%.gz}"
    name="${name%.dcm}"
    name="${name//\//-}"
    name="$prefix-${name//[^A-Za-z0-9._-]/_}.dcm"
    dest="$stage/$name"
    [[ ! -e "$dest" ]] || die "name clash: $name"
    if [[ "$f" == *.gz ]]; then
      gzip -dc -- "$f" >"$dest"
    else
      cp -- "$f" "$dest"
    fi
    chmod 0644 "$dest"
    count=$((count + 1))
  done < <(find "$dir" -type f -print0 | LC_ALL=C sort -z)
}

# heudiconv: every DICOM file, but only one of the three 3.9 MB b0dwi files.
vendor heudiconv /usr/lib/python3/dist-packages/heudiconv/tests/data any \
  b0dwiForFmap/b0dwi_for_fmap+00002.dcm b0dwiForFmap/b0dwi_for_fmap+00003.dcm
# nibabel: .dcm and .dcm.gz; philips_mprage is 23 MB unzipped; one of the two siemens_dwi.
vendor nibabel /usr/lib/python3/dist-packages/nibabel/nicom/tests/data '.dcm .dcm.gz' \
  siemens_dwi_0.dcm.gz
# octave-dicom: every .dcm file.
vendor octave-dicom /usr/share/octave/packages/dicom-0.5.1/imdata '.dcm'

# Files the tests rely on: fail loudly if a package update moved them.
for must in heudiconv-Phoenix-99_PhoenixDocument-99_PhoenixDocument_00001.dcm \
  heudiconv-axasc35.dcm nibabel-philips_mprage.dcm octave-dicom-rtstruct.dcm; do
  [[ -f "$stage/$must" ]] || die "expected $must, not found in the packages"
done

{
  echo "# files: $count"
  for deb in "$work"/*.deb; do dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb"; done
} >"$stage/.complete"
chmod 0755 "$stage"

# Replace an incomplete earlier attempt, but never remove anything that is not ours.
if [[ -e "$TARGET" ]]; then
  find "$TARGET" -maxdepth 1 -type f -name '*.dcm' -delete
  rmdir -- "$TARGET" 2>/dev/null || die "$TARGET holds files other than an earlier corpus; remove it"
fi
mv -T -- "$stage" "$TARGET"
echo "vendor-corpus: $count files in $TARGET"
