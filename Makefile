# Conveniences over SwiftPM. The README's two commands: `make demo` and `swift test`.
.PHONY: build demo test dist

build:
	swift build

demo: build
	./scripts/demo.sh .build/debug

test:
	swift test

# Release binaries with the Swift runtime linked in, packaged into dist/: Debian packages and tarballs.
dist:
	./scripts/dist.sh --out dist
