# Makefile: the only build file. `make` builds bin/, `make check` tests.
#
#   make                 build lib/libsp.a and every tool into bin/
#   make check           build, then run t/ (shell and C unit tests) via prove
#   make check SANITIZE=address,undefined
#                        the same under ASan/UBSan (objects go to build-san/)
#   make valgrind        the suite again with every tool and unit test under
#                        valgrind (leaks and invalid accesses fail it)
#   make deps            apt-get install what the build and tests need
#   make lint            clang-format check and mandoc -Tlint of man/
#   make fuzz            build the libFuzzer targets in t/fuzz into build-fuzz/
#                        and run each for FUZZ_SECONDS (default 60)
#   make demo            run the tools on the sample data in t/data
#   make bench           sp-match and sp-group against jq on generated data
#   make install         PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS = libbson-1.0 jansson libpcre2-8
# Debian packages for `make deps`: libraries, then what the tests and
# `make lint`/`make bench` run.
DEB_PKGS = gcc make pkg-config libbson-dev libjansson-dev libpcre2-dev \
	perl jq mandoc valgrind tzdata

SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD = build
SANFLAGS =
else
BUILD = build-san
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
endif

OPT ?= -O2
CFLAGS ?= $(OPT) -g
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter -Wno-sign-compare
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) \
	$(PKG_CFLAGS) -Ilib
LDLIBS = $(PKG_LIBS) -lm

# Every cmd/<tool>.c is a tool.
TOOLS = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
UNIT_SRC = $(wildcard t/unit/*.c)
UNIT_BIN = $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/%.t)
BINS = $(TOOLS:%=bin/%)

.PHONY: all build check test deps demo lint bench fuzz valgrind install clean
.SUFFIXES:

# The default target installs missing libraries first, so that the README's
# commands work on a fresh Debian machine.
all:
	@pkg-config --exists $(PKGS) 2>/dev/null || $(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory build

deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
		    grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends $$missing; \
	fi

# bin/ always holds the tools; a sanitizer build keeps its own copy in
# $(BUILD)/bin so that it never overwrites the plain one.
ifeq ($(SANITIZE),)
TOOLDIR = bin
else
TOOLDIR = $(BUILD)/bin
endif
TOOL_BINS = $(TOOLS:%=$(TOOLDIR)/%)

build: $(TOOL_BINS) $(UNIT_BIN)

$(BUILD)/lib/%.o: lib/%.c lib/sp.h $(wildcard lib/*_int.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libsp.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(TOOLDIR)/%: cmd/%.c $(BUILD)/libsp.a lib/sp.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libsp.a $(LDLIBS)

$(BUILD)/t/%.t: t/unit/%.c t/unit/tap.h $(BUILD)/libsp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -It/unit -o $@ $< $(BUILD)/libsp.a $(LDLIBS)

# SP_BIN tells t/lib.sh which tools to test. The test files run in
# parallel, one per core (each has its own scratch directory);
# PROVEFLAGS= runs them one at a time.
PROVEFLAGS ?= -j$(shell nproc 2>/dev/null || echo 1)
check: all
	@$(MAKE) --no-print-directory deps
	@if [ -n "$(SANITIZE)" ]; then $(MAKE) --no-print-directory build SANITIZE=$(SANITIZE); fi
	SP_BIN=$(abspath $(TOOLDIR)) prove $(PROVEFLAGS) $(UNIT_BIN) t/*.t

test: check

# The tools run through wrappers in build/valgrind-bin; exit status 97 is
# valgrind's, so any finding fails the test that ran the tool. PCRE2's JIT
# code is invisible to valgrind, hence SP_REGEX_NO_JIT.
VALGRIND = valgrind -q --error-exitcode=97 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect
valgrind: all
	@$(MAKE) --no-print-directory deps
	@mkdir -p build/valgrind-bin
	@for t in $(TOOLS); do \
		printf '#!/bin/sh\nexec $(VALGRIND) %s/bin/%s "$$@"\n' \
		    "$(CURDIR)" "$$t" >build/valgrind-bin/$$t; \
		chmod +x build/valgrind-bin/$$t; \
	done
	SP_REGEX_NO_JIT=1 prove $(PROVEFLAGS) --exec '$(VALGRIND)' $(UNIT_BIN)
	SP_REGEX_NO_JIT=1 SP_TEST_QUICK=1 SP_BIN=$(CURDIR)/build/valgrind-bin \
	    prove $(PROVEFLAGS) t/*.t

demo: all
	@sh examples/demo.sh

lint:
	clang-format --dry-run --Werror lib/*.c lib/*.h cmd/*.c
	mandoc -Tlint -W warning man/*.1 man/*.7

bench: all
	@$(MAKE) --no-print-directory deps
	sh bench/run.sh $(BENCH_COUNT)
	sh bench/group.sh $(BENCH_COUNT)

FUZZ_SECONDS ?= 60
FUZZ_SRC = $(wildcard t/fuzz/*.c)
FUZZ_BIN = $(FUZZ_SRC:t/fuzz/%.c=build-fuzz/fuzz-%)

build-fuzz/fuzz-%: t/fuzz/%.c $(LIB_SRC) lib/sp.h
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 \
	    -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -Ilib -o $@ \
	    $< $(LIB_SRC) $(LDLIBS)

fuzz: all $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
		echo "$$f: $(FUZZ_SECONDS) s"; \
		mkdir -p $$f.corpus && \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $$f.corpus \
		    >$$f.log 2>&1 || { tail -n 30 $$f.log; exit 1; }; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/

clean:
	rm -rf build build-san build-fuzz bin
