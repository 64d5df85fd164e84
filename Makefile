# Thin wrapper over CMake. `make` builds, `make test` runs the whole suite
# twice (normal and ASan+UBSan builds) and the multi-threaded tests under
# ThreadSanitizer, `make demo` runs the demo.
BUILD ?= build
SANBUILD ?= build-san
TSANBUILD ?= build-tsan
FUZZBUILD ?= build-fuzz
# Seconds per fuzz target: make fuzz FUZZ_TIME=1800; make test runs FUZZ_SMOKE each.
FUZZ_TIME ?= 300
FUZZ_SMOKE ?= 3
JOBS ?= $(shell nproc)

.PHONY: all deps test test-normal test-san test-tsan fuzz fuzz-build fuzz-smoke interop demo bench format format-check clean

all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

deps:
	@sh scripts/deps.sh all

test: deps format-check test-normal test-san test-tsan fuzz-smoke
	@echo "make test: all suites passed (normal, ASan+UBSan, the threaded tests under TSan, and a fuzz smoke)"

test-normal: all
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-san: deps
	@cmake -S . -B $(SANBUILD) -DCMAKE_BUILD_TYPE=Debug -DQUICC_SANITIZE=ON >/dev/null
	@cmake --build $(SANBUILD) -j$(JOBS)
	@cd $(SANBUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS)

# The tests that use threads (API scenarios, thread tests, the transport pair, the
# thread-assisted idle test).
TSAN_TESTS = test_threads|test_scripts|test_transport|interop_test_idle
test-tsan: deps
	@cmake -S . -B $(TSANBUILD) -DCMAKE_BUILD_TYPE=Debug -DQUICC_TSAN=ON >/dev/null
	@cmake --build $(TSANBUILD) -j$(JOBS)
	@cd $(TSANBUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --output-on-failure -j$(JOBS) -R '$(TSAN_TESTS)'

# Coverage-guided fuzzing (libFuzzer, clang, ASan+UBSan): tests/fuzz/, see docs/fuzzing.md.
fuzz-build: deps
	@CC=clang cmake -S . -B $(FUZZBUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUICC_FUZZ=ON -DQUICC_SANITIZE=ON >/dev/null
	@cmake --build $(FUZZBUILD) -j$(JOBS) --target fuzzers

fuzz: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZBUILD) $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@sh tests/fuzz/run.sh $(FUZZBUILD) $(FUZZ_SMOKE)

# The interop-runner cases through the network emulator at the runner's sizes (docs/interop.md).
interop: all
	@sh tests/interop/cases.sh $(BUILD) full

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
	rm -rf $(BUILD) $(SANBUILD) $(TSANBUILD) $(FUZZBUILD)
