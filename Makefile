# Conveniences over SwiftPM. The README's two commands: `make demo` and `swift test`.
.PHONY: build demo test

build:
	swift build

demo: build
	./scripts/demo.sh .build/debug

test:
	swift test
