# tests/fuzz/fuzz.mk — fuzz targets (included by the top Makefile).
#
#   make tests                  builds $(BUILD)/fuzz/replay_<target> too
#   make fuzz                   builds libFuzzer binaries in build-fuzz/ with
#                               clang and runs each for FUZZ_SECONDS (30)
#   make fuzz FUZZ_TARGETS=sql FUZZ_SECONDS=120 FUZZ_JOBS=2
#   make fuzz-build             only build them
#
# Each tests/fuzz/fuzz_<target>.c is a libFuzzer entry point that also links
# with tests/fuzz/replay_main.c into a plain program that replays saved
# inputs (tests/e2e/fuzz_replay.sh runs it over tests/fuzz/corpus/<target>/
# and tests/fuzz/regress/<target>/).  See docs/fuzzing.md.

FUZZ_ALL      := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_TARGETS  ?= $(FUZZ_ALL)
FUZZ_REPLAY_BIN := $(FUZZ_ALL:%=$(BUILD)/fuzz/replay_%)

FUZZ_CC       ?= clang
FUZZ_DIR      ?= build-fuzz
FUZZ_SECONDS  ?= 30
FUZZ_JOBS     ?= 1
FUZZ_ARGS     ?=
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer
FUZZ_CFLAGS    = $(CSTD) $(filter-out -Werror,$(WARN)) -Wno-format-nonliteral -g -O1 $(FUZZ_SAN) -Iinclude $(LIB_DIRS:%=-I%) $(CHDB_CFLAGS)
FUZZ_LIB_OBJ  := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(notdir $(LIB_SRC)))
FUZZ_BIN      := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-clean

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c tests/fuzz/fuzz.h \
                        $(BUILD)/libsinkpipe.a
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -Itests/fuzz -o $@ $< tests/fuzz/replay_main.c \
	    $(BUILD)/libsinkpipe.a $(ALL_LDFLAGS) $(LIBS)

# libFuzzer build: every library source again, instrumented for coverage
# (clang warns differently from gcc: warnings are shown, not fatal, here)
define fuzz_lib_rule
$(FUZZ_DIR)/obj/%.o: $(1)/%.c
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c $$< -o $$@
endef
$(foreach d,$(LIB_DIRS),$(eval $(call fuzz_lib_rule,$(d))))

$(FUZZ_DIR)/libsinkpipe.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_DIR)/libsinkpipe.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< \
	    $(FUZZ_DIR)/libsinkpipe.a $(LIBS)

fuzz-build: $(FUZZ_BIN)

# New inputs go to $(FUZZ_DIR)/corpus/<target> (the seeds in
# tests/fuzz/corpus/<target> are read, never written); crashes to
# $(FUZZ_DIR)/artifacts/<target>/.  A target's dictionary
# tests/fuzz/dict/<target>.dict is used when present.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t; \
	    dict=; [ -f tests/fuzz/dict/$$t.dict ] && dict=-dict=tests/fuzz/dict/$$t.dict; \
	    echo "fuzz $$t for $(FUZZ_SECONDS)s"; \
	    jobs=; [ $(FUZZ_JOBS) -gt 1 ] && jobs="-jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS)"; \
	    $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) $$jobs \
	        -print_final_stats=1 $$dict \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ $(FUZZ_ARGS) \
	        $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t; \
	done

fuzz-clean:
	rm -rf $(FUZZ_DIR)

-include $(FUZZ_LIB_OBJ:.o=.d)
