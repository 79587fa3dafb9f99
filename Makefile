# postino - build, test and demo.
#
#   make            the postino binary (and build/libpostino.a the tests link)
#   make check      unit tests, unit tests under ASan+UBSan, the OpenAPI lint, integration
#                   tests, unit and threaded integration tests under TSan, fuzz smoke
#   make demo       the main job on the embedded defaults
#   make stop       stop what `make demo` left running (PostgreSQL in var/pg, Postfix in var/mta)
#   make tsan       unit tests and the threaded integration tests under ThreadSanitizer
#   make check-cluster  two sender hosts in network namespaces, one PostgreSQL over TLS, one
#                   Postfix: a 20,000-recipient campaign with one link cut and restored
#                   (make check runs the same test at 2,000)
#   make test T=tests/unit/mail/test_dkim.c [CASE=NAME]   one test (one cmocka case)
#   make coverage   line coverage per directory (unit and integration tests)
#   make bench      the benchmarks in bench/ (ratios against references)
#   make fuzz       the libFuzzer targets (clang)
#   make install    binary, man pages, systemd units, example configuration (PREFIX, DESTDIR)
#   make uninstall  remove them (an edited configuration stays)
#   make deb        the Debian package, in build/deb
#   make clean
#
# Two passes. The flags of the libraries come from pkg-config, and a make
# computes them when it reads this file, before any recipe runs: on a machine
# where a -dev package is missing, the first pass would compile with no flags
# at all. So the first pass (POSTINO_DEPS unset) only runs scripts/deps.sh,
# which installs what is missing, then runs make again with the same goals
# and POSTINO_DEPS=1; that second make reads this file anew, after the
# packages are there. `make clean` and `make stop` need no packages.

ifeq ($(POSTINO_DEPS),)
NODEPS_GOALS := clean stop uninstall
GOALS := $(or $(MAKECMDGOALS),all)
ifeq ($(filter-out $(NODEPS_GOALS),$(GOALS)),)
.PHONY: $(GOALS)
clean:
	rm -rf build postino
stop:
	@bash scripts/stop.sh
uninstall:
	@sh scripts/install.sh uninstall
else
.PHONY: $(GOALS) deps-then-make
$(GOALS): deps-then-make
	@:
deps-then-make:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory POSTINO_DEPS=1 $(MAKECMDGOALS)
endif
else

BUILD   ?= build
CC      ?= gcc
PKGS     = libpq openssl libuv libcurl libxml-2.0 jansson libmicrohttpd inih libidn2 libcrypt gmime-3.0 libcmark \
           libcares libsystemd
PKG_MISSING := $(shell pkg-config --exists $(PKGS) 2>/dev/null || pkg-config --print-errors --exists $(PKGS) 2>&1 | head -1)
ifneq ($(PKG_MISSING),)
$(error pkg-config: $(PKG_MISSING) (run: sh scripts/deps.sh))
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lpthread -lm

WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
OPT     ?= -O2 -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE $(OPT) $(WARN) -MMD -MP -I. -I$(BUILD)/gen $(PKG_CFLAGS) $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
LDLIBS  += $(PKG_LIBS)
ifeq ($(SAN),1)
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

# Library sources: every .c under engine/, api/, importers/ except the CLI entry point.
LIB_SRC  := $(sort $(wildcard engine/*/*.c api/*.c importers/*.c))
LIB_SRC  := $(filter-out engine/cli/main.c,$(LIB_SRC))
GEN_SRC  := $(BUILD)/gen/embedded.c
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(GEN_SRC:.c=.o)
MAIN_OBJ := $(BUILD)/engine/cli/main.o

UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/%.c=$(BUILD)/tests/%)
ITEST_C  := $(sort $(wildcard tests/integration/test_*.c))
ITEST_BIN:= $(ITEST_C:tests/%.c=$(BUILD)/tests/%)
EMBED    := $(sort $(wildcard sql/*.sql templates/* admin/*))

.PHONY: all check check-cluster test coverage tsan openapi-lint unit unit-asan integration fuzz fuzz-smoke demo bench clean deps tests stop \
        install uninstall deb
all: postino

postino: $(BUILD)/postino
	@ln -sf $(BUILD)/postino postino

$(BUILD)/postino: $(MAIN_OBJ) $(BUILD)/libpostino.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libpostino.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

Q = $(if $(V),,@)
$(BUILD)/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# sql/ and templates/ are compiled into the binary, so it runs from anywhere.
$(GEN_SRC): $(EMBED) scripts/embed.sh
	@mkdir -p $(@D)
	$(Q)sh scripts/embed.sh $(EMBED) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/embedded.o: $(GEN_SRC)
	$(Q)$(CC) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/tests/case_filter.o $(BUILD)/libpostino.a
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CCLD    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(BUILD)/tests/case_filter.o $(BUILD)/libpostino.a $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/tests/case_filter.o: tests/case_filter.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# One test: make test T=tests/unit/mail/test_dkim.c [CASE=test_dkim_rsa*] (cmocka's * and ?),
# or T=tests/integration/test_send.sh, or T=tests/integration/test_ledger.c.
T_PROG = $(if $(filter %.sh,$(T)),,$(BUILD)/$(basename $(T)))
test:
	@[ -n "$(T)" ] || { echo "usage: make test T=tests/unit/DIR/test_NAME.c [CASE=NAME] | T=tests/integration/test_NAME.sh"; exit 2; }
	@[ -e "$(T)" ] || [ -e "$(T).c" ] || { echo "make test: no test $(T)"; exit 2; }
	@$(MAKE) --no-print-directory postino $(T_PROG)
	@POSTINO_TEST_CASE="$(CASE)" bash tests/run-one.sh "$(T)"

# Line coverage per directory (gcov, lcov): the unit tests and the integration
# scripts against a build with --coverage in build/cov; the report in build/cov/html.
coverage:
	@$(MAKE) -j$(JOBS) --no-print-directory BUILD=build/cov OPT="-O0 -g" SAN_FLAGS=--coverage \
	    build/cov/postino $(UNIT_SRC:tests/%.c=build/cov/tests/%)
	@bash tests/coverage.sh

tests: $(UNIT_BIN) $(ITEST_BIN) postino

# Benchmark programs: bench/bench_*.c linked with the library.
$(BUILD)/bench/%: bench/%.c $(BUILD)/libpostino.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libpostino.a $(LDFLAGS) $(LDLIBS)

deps:
	@sh scripts/deps.sh

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

unit-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 OPT="-O1 -g" unit

integration: postino $(ITEST_BIN)
	@bash tests/integration/run.sh

# ThreadSanitizer: the unit tests and the threaded integration tests (tests/tsan.sh names them).
tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN_FLAGS=-fsanitize=thread OPT="-O1 -g" \
	    build/tsan/postino $(UNIT_SRC:tests/%.c=build/tsan/tests/%)
	@bash tests/tsan.sh

# api/openapi.yaml against Spectral's spectral:oas rules (installed from npm into build/tools)
openapi-lint:
	@bash scripts/openapi-lint.sh

# check builds with one job per core (JOBS); tests/integration/run.sh says how the tests share them.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check:
	@$(MAKE) -j$(JOBS) --no-print-directory unit
	@$(MAKE) -j$(JOBS) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory openapi-lint
	@$(MAKE) -j$(JOBS) --no-print-directory integration
	@$(MAKE) -j$(JOBS) --no-print-directory tsan
	@$(MAKE) -j$(JOBS) --no-print-directory fuzz-smoke

# tests/integration/test_cluster.sh at its full size (CLUSTER_N: the recipients)
CLUSTER_N ?= 20000
check-cluster: postino
	@CLUSTER_N=$(CLUSTER_N) bash tests/integration/test_cluster.sh

# libFuzzer targets: tests/fuzz/fuzz_*.c, each linked with the library built by clang.
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
fuzz:
	@$(MAKE) --no-print-directory BUILD=build/fuzzlib CC=clang OPT="-O1 -g" \
	    SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" build/fuzzlib/libpostino.a
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
build/fuzz/%: tests/fuzz/%.c build/fuzzlib/libpostino.a
	@mkdir -p $(@D)
	clang -std=gnu11 -O1 -g -I. -Ibuild/fuzzlib/gen $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $@ $< build/fuzzlib/libpostino.a $(PKG_LIBS)
fuzz-smoke: fuzz
	@sh tests/fuzz/run.sh $(FUZZ_BIN)

demo: postino
	@bash scripts/demo.sh

bench: postino
	@bash bench/run.sh

clean:
	rm -rf build postino

stop:
	@bash scripts/stop.sh

# Installation: PREFIX (/usr/local), DESTDIR, SYSCONFDIR (/etc), UNITDIR; scripts/install.sh.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL_ENV = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" UNITDIR="$(UNITDIR)" \
              BIN="$(BUILD)/postino"
install: postino
	@$(INSTALL_ENV) sh scripts/install.sh install
uninstall:
	@$(INSTALL_ENV) sh scripts/install.sh uninstall

# The Debian package (debian/): dpkg-buildpackage into build/deb.
deb:
	@sh scripts/deb.sh

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
endif
