#include "config.h"

#include "fuzz-common.h"
#include "stdiolink.h"

/*
 * stdiolink_json_parse() reads every API body, JSONL line and file; stdiolink_json_to_string()
 * writes every answer and file. What the writer produced must read back to the same text.
 */

static void
check_round_trip(JsonNode *node)
{
	g_autofree char *compact = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
	g_autofree char *pretty = stdiolink_json_to_string(node, STDIOLINK_JSON_PRETTY);
	g_autoptr(JsonNode) from_compact = NULL;
	g_autoptr(JsonNode) from_pretty = NULL;
	g_autofree char *again = NULL;
	g_autoptr(GError) error = NULL;

	from_compact = stdiolink_json_parse(compact, -1, &error);
	g_assert_no_error(error);
	from_pretty = stdiolink_json_parse(pretty, -1, &error);
	g_assert_no_error(error);

	/* writing is a fixed point: non-finite numbers may turn to null once, then stay */
	again = stdiolink_json_to_string(from_compact, STDIOLINK_JSON_COMPACT);
	g_assert_cmpstr(again, ==, compact);
	g_assert_true(stdiolink_json_equal(from_compact, from_pretty));
}

static void
walk_object(JsonObject *object)
{
	g_autoptr(GList) ordered = stdiolink_json_object_get_ordered_members(object);
	g_autoptr(GList) sorted = stdiolink_json_object_get_sorted_members(object);
	g_autofree char *text = stdiolink_json_object_to_string(object, STDIOLINK_JSON_COMPACT);

	g_assert_nonnull(text);
	g_assert_cmpuint(g_list_length(ordered), ==, g_list_length(sorted));
	for (GList *l = ordered; l != NULL; l = l->next) {
		JsonNode *member = json_object_get_member(object, l->data);

		if (stdiolink_json_node_is_number(member))
			(void)stdiolink_json_node_get_number(member);
		(void)stdiolink_json_object_get_string(object, l->data);
		(void)stdiolink_json_object_get_object(object, l->data);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(JsonNode) node = NULL;

	node = stdiolink_json_parse((const char *)data, (gssize)size, NULL);
	if (node == NULL)
		return 0;

	check_round_trip(node);
	if (JSON_NODE_HOLDS_OBJECT(node))
		walk_object(json_node_get_object(node));
	return 0;
}
