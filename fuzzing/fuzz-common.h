#pragma once

#include <stddef.h>
#include <stdint.h>

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* the libFuzzer entry points; driver.c calls the same two when it replays files */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Targets that take several documents split their input at NUL bytes: valid JSON never
 * holds one, so the split cannot hide a document the fuzzer meant as one.
 */
#define FUZZ_SEPARATOR '\0'

/**
 * FuzzInput:
 * @data: the bytes not consumed yet
 * @size: how many
 * @ended: set once the last part has been taken
 *
 * A cursor over the fuzzer's input.
 */
typedef struct {
	const uint8_t *data;
	size_t size;
	gboolean ended;
} FuzzInput;

void fuzz_input_init(FuzzInput *in, const uint8_t *data, size_t size);
GBytes *fuzz_input_next(FuzzInput *in);
char *fuzz_input_next_string(FuzzInput *in);
JsonNode *fuzz_input_next_json(FuzzInput *in);
JsonNode *fuzz_parse_bytes(GBytes *bytes);
void fuzz_render(JsonNode *node);

G_END_DECLS
