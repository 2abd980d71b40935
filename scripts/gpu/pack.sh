#!/usr/bin/env bash
# Packs a Release build of the trainer (or of the test project) so that it runs on a Linux x86-64 GPU machine
# that has a CUDA build of PyTorch 2.x installed but no .NET: the .NET runtime goes along, libtorch does not
# (the machine's own torch/lib is used; see README.md beside this file for what that implies).
#
#   scripts/gpu/pack.sh BUILD_DIR [DEST]     e.g.  dotnet build -c Release src/Trainer.Cli -o /tmp/cli
#                                                    scripts/gpu/pack.sh /tmp/cli .gpu
# DEST (default .gpu) then holds runtime.tar.xz, app.tar.xz, run.sh and peer_train.py; keep DEST git-ignored.
set -euo pipefail
BUILD=$(cd "${1:?usage: pack.sh BUILD_DIR [DEST]}" && pwd)
DEST=${2:-.gpu}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
DOTNET_DIR=$(dirname "$(readlink -f "$(command -v dotnet)")")
FX=$(ls -d "$DOTNET_DIR"/shared/Microsoft.NETCore.App/* | sort -V | tail -1)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/trainer-gpu/runtime-$(basename "$FX").tar.xz
if [ ! -f "$CACHE" ]; then
  # the runtime without the debugger, alternative GCs, tracing and assemblies the trainer never loads
  tmp=$(mktemp -d)
  mkdir -p "$tmp/host" "$tmp/shared/Microsoft.NETCore.App"
  cp -a "$DOTNET_DIR/dotnet" "$tmp/" && cp -a "$DOTNET_DIR/host/fxr" "$tmp/host/"
  cp -a "$FX" "$tmp/shared/Microsoft.NETCore.App/"
  (cd "$tmp/shared/Microsoft.NETCore.App/$(basename "$FX")" && rm -f createdump libmscordaccore.so libmscordbi.so \
    libclrgc.so libclrgcexp.so libcoreclrtraceptprovider.so Microsoft.VisualBasic.Core.dll System.Data.Common.dll \
    System.Private.Xml.dll System.Private.Xml.Linq.dll System.Private.DataContractSerialization.dll System.Net.Quic.dll)
  mkdir -p "$(dirname "$CACHE")"
  tar cJf "$CACHE.tmp" -C "$tmp" . && mv "$CACHE.tmp" "$CACHE"
  rm -rf "$tmp"
fi
cp "$CACHE" "$DEST/runtime.tar.xz"
# the build without libtorch (the GPU machine's PyTorch provides it) and without other platforms' natives
(cd "$BUILD" && tar cf - --exclude='./runtimes/win*' --exclude='./runtimes/osx*' --exclude='./runtimes/ios*' \
  --exclude='./runtimes/android*' --exclude='./runtimes/linux-arm*' --exclude='./runtimes/linux-musl*' \
  --exclude='./runtimes/maccatalyst*' --exclude='./runtimes/tvos*' --exclude='./runtimes/browser*' \
  --exclude='*/libtorch*' --exclude='*/libc10*' --exclude='*/libgomp*' --exclude='*/libbackend_with_compiler.so' \
  --exclude='*/libnnapi_backend.so' --exclude='*/libaoti_custom_ops.so' --exclude='*/libjitbackend_test.so' \
  --exclude='*/libshm*' --exclude='*.pdb' --exclude='./cpu' --exclude='./cuda*' .) | xz -T0 > "$DEST/app.tar.xz"
cp "$HERE/run.sh" "$HERE/peer_train.py" "$DEST/"
du -sh "$DEST"/* | sed 's/^/  /'
echo "packed $(basename "$BUILD") into $DEST ($(du -sh "$DEST" | cut -f1))"
