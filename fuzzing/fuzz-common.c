#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "stdiolink.h"

/*
 * Only what would abort the daemon is worth the fuzzer's time on the terminal. GLib ends a
 * fatal message with SIGTRAP, which libFuzzer does not catch: abort() instead, so that the
 * input is saved.
 */
static GLogWriterOutput
quiet_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	if ((level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) == 0)
		return G_LOG_WRITER_HANDLED;
	g_log_writer_default(level, fields, n_fields, user_data);
	abort();
}

/**
 * LLVMFuzzerInitialize:
 * @argc: the fuzzer's argument count
 * @argv: the fuzzer's arguments
 *
 * Makes criticals fatal: a g_return_if_fail() that hostile input can reach is a bug, and
 * aborting is how the fuzzer gets to see it.
 *
 * Returns: 0
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	g_log_set_writer_func(quiet_writer, NULL, NULL);
	return 0;
}

/**
 * fuzz_input_init:
 * @in: the cursor
 * @data: the fuzzer's input
 * @size: its length
 */
void
fuzz_input_init(FuzzInput *in, const uint8_t *data, size_t size)
{
	in->data = data;
	in->size = size;
	in->ended = FALSE;
}

/**
 * fuzz_input_next:
 * @in: the cursor
 *
 * Takes the bytes up to the next %FUZZ_SEPARATOR, or up to the end.
 *
 * Returns: (transfer full) (nullable): an exact-size copy, so that the sanitizers see any
 *   read past its end; %NULL once the input is used up
 */
GBytes *
fuzz_input_next(FuzzInput *in)
{
	const uint8_t *sep;
	size_t length;
	GBytes *part;

	if (in->ended)
		return NULL;

	sep = in->size > 0 ? memchr(in->data, FUZZ_SEPARATOR, in->size) : NULL;
	length = sep != NULL ? (size_t)(sep - in->data) : in->size;
	part = g_bytes_new(in->data, length);

	/* the separator belongs to neither part */
	if (sep == NULL) {
		in->ended = TRUE;
		in->size = 0;
	} else {
		in->data = sep + 1;
		in->size -= length + 1;
	}
	return part;
}

/**
 * fuzz_input_next_string:
 * @in: the cursor
 *
 * Returns: (transfer full) (nullable): the next part as a C string, %NULL at the end
 */
char *
fuzz_input_next_string(FuzzInput *in)
{
	g_autoptr(GBytes) part = fuzz_input_next(in);
	gsize length = 0;
	const char *data;

	if (part == NULL)
		return NULL;
	data = g_bytes_get_data(part, &length);
	return g_strndup(data != NULL ? data : "", length);
}

/**
 * fuzz_parse_bytes:
 * @bytes: (nullable): JSON text
 *
 * Parses with the daemon's parser.
 *
 * Returns: (transfer full) (nullable): the document, or %NULL if @bytes is %NULL or not JSON
 */
JsonNode *
fuzz_parse_bytes(GBytes *bytes)
{
	gsize length = 0;
	const char *data;

	if (bytes == NULL)
		return NULL;
	data = g_bytes_get_data(bytes, &length);
	return stdiolink_json_parse(data != NULL ? data : "", (gssize)length, NULL);
}

/**
 * fuzz_input_next_json:
 * @in: the cursor
 *
 * Returns: (transfer full) (nullable): the next part parsed, or %NULL if it is not JSON
 */
JsonNode *
fuzz_input_next_json(FuzzInput *in)
{
	g_autoptr(GBytes) part = fuzz_input_next(in);

	return fuzz_parse_bytes(part);
}

/**
 * fuzz_render:
 * @node: (nullable): a document the library built
 *
 * Writes @node both ways, as the daemon does for answers and files, and drops the text:
 * what the library builds must be printable.
 */
void
fuzz_render(JsonNode *node)
{
	g_autofree char *compact = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
	g_autofree char *pretty = stdiolink_json_to_string(node, STDIOLINK_JSON_PRETTY);

	g_assert_nonnull(compact);
	g_assert_nonnull(pretty);
}
