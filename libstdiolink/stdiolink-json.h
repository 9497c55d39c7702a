#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * STDIOLINK_JSON_MAX_DEPTH:
 *
 * The deepest nesting of arrays and objects stdiolink_json_parse() accepts.
 */
#define STDIOLINK_JSON_MAX_DEPTH 512

/**
 * StdiolinkJsonFlags:
 * @STDIOLINK_JSON_COMPACT: one line, no spaces (API bodies, event log, JSONL)
 * @STDIOLINK_JSON_PRETTY: 4-space indentation and a trailing newline (files on disk)
 */
typedef enum {
	STDIOLINK_JSON_COMPACT = 0,
	STDIOLINK_JSON_PRETTY = 1 << 0,
} StdiolinkJsonFlags;

char *stdiolink_json_to_string(JsonNode *node, StdiolinkJsonFlags flags);
char *stdiolink_json_object_to_string(JsonObject *object, StdiolinkJsonFlags flags);
void stdiolink_json_append(GString *out, JsonNode *node, StdiolinkJsonFlags flags);
char *stdiolink_json_format_number(double value);

JsonNode *stdiolink_json_parse(const char *data, gssize length, GError **error);

gboolean stdiolink_json_node_is_number(JsonNode *node);
double stdiolink_json_node_get_number(JsonNode *node);
gboolean stdiolink_json_node_is_string(JsonNode *node);
gboolean stdiolink_json_node_is_bool(JsonNode *node);
gboolean stdiolink_json_equal(JsonNode *a, JsonNode *b);
JsonNode *stdiolink_json_node_new_object(JsonObject *object);

const char *stdiolink_json_object_get_string(JsonObject *object, const char *member);
JsonObject *stdiolink_json_object_get_object(JsonObject *object, const char *member);
GList *stdiolink_json_object_get_sorted_members(JsonObject *object);
GList *stdiolink_json_object_get_ordered_members(JsonObject *object);

G_END_DECLS
