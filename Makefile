# Thin wrapper over CMake. `make` builds, `make test` runs the whole suite
# twice (normal and ASan+UBSan builds), `make demo` runs the demo.
BUILD ?= build
SANBUILD ?= build-san
JOBS ?= $(shell nproc)

.PHONY: all deps test test-normal test-san demo bench format format-check clean

all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

deps:
	@sh scripts/deps.sh all

test: deps format-check test-normal test-san
	@echo "make test: all suites passed (normal and ASan+UBSan)"

test-normal: all
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-san: deps
	@cmake -S . -B $(SANBUILD) -DCMAKE_BUILD_TYPE=Debug -DQUICC_SANITIZE=ON >/dev/null
	@cmake --build $(SANBUILD) -j$(JOBS)
	@cd $(SANBUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS)

demo: all
	@sh scripts/demo.sh $(BUILD)

bench: all
	@sh bench/bench_download.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check:
	@out=$$(for f in $$(git ls-files '*.c' '*.h'); do clang-format --dry-run -Werror $$f 2>&1 >/dev/null || echo $$f; done); \
	if [ -n "$$out" ]; then echo "clang-format: these files need 'make format':"; echo "$$out"; exit 1; fi

clean:
	rm -rf $(BUILD) $(SANBUILD)
