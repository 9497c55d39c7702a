#include "config.h"

#include "stdiolink.h"

/*
 * Demo driver: an in-memory key-value store. State lives as long as the process, so it
 * shows the difference between the profiles: with `keepalive` a value set by one request
 * is there for the next; with `oneshot` every request meets an empty store.
 */

#define KEY_PARAM                                                                          \
	"{\"name\":\"key\",\"type\":\"string\",\"required\":true,\"minLength\":1,"         \
	"\"maxLength\":256,\"description\":\"The key\"}"

static const char set_meta[] =
    "{\"name\":\"set\",\"description\":\"Stores a value under a key\","
    "\"params\":[" KEY_PARAM ",{\"name\":\"value\",\"type\":\"any\",\"required\":true,"
    "\"description\":\"Any JSON value\"}],"
    "\"returns\":{\"type\":\"object\",\"fields\":[{\"name\":\"key\",\"type\":\"string\"},"
    "{\"name\":\"created\",\"type\":\"bool\"}]},"
    "\"examples\":[{\"description\":\"Store a number\",\"mode\":\"stdio\","
    "\"params\":{\"key\":\"answer\",\"value\":42}}]}";

static const char get_meta[] =
    "{\"name\":\"get\",\"description\":\"Reads the value of a key (error 2 if absent)\","
    "\"params\":[" KEY_PARAM "],"
    "\"returns\":{\"type\":\"object\",\"fields\":[{\"name\":\"key\",\"type\":\"string\"},"
    "{\"name\":\"value\",\"type\":\"any\"}]}}";

static const char delete_meta[] =
    "{\"name\":\"delete\",\"description\":\"Removes a key\",\"params\":[" KEY_PARAM "],"
    "\"returns\":{\"type\":\"object\",\"fields\":[{\"name\":\"deleted\",\"type\":\"bool\"}]}}";

static const char list_meta[] =
    "{\"name\":\"list\",\"description\":\"Lists the keys, sorted\","
    "\"params\":[{\"name\":\"prefix\",\"type\":\"string\",\"default\":\"\","
    "\"description\":\"Only keys starting with this\"}],"
    "\"returns\":{\"type\":\"object\",\"fields\":[{\"name\":\"keys\",\"type\":\"array\"},"
    "{\"name\":\"count\",\"type\":\"int\"}]}}";

static const char clear_meta[] =
    "{\"name\":\"clear\",\"description\":\"Removes every key\","
    "\"returns\":{\"type\":\"object\",\"fields\":[{\"name\":\"removed\",\"type\":\"int\"}]}}";

static JsonNode *
result_node(JsonObject *object)
{
	return stdiolink_json_node_new_object(object);
}

static void
set_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	GHashTable *store = user_data;
	const char *key = json_object_get_string_member(params, "key");
	gboolean created = !g_hash_table_contains(store, key);
	JsonObject *object = json_object_new();
	g_autoptr(JsonNode) data = NULL;

	g_hash_table_replace(store, g_strdup(key),
			     json_node_copy(json_object_get_member(params, "value")));
	json_object_set_string_member(object, "key", key);
	json_object_set_boolean_member(object, "created", created);
	data = result_node(object);
	stdiolink_driver_reply_done(reply, data);
}

static void
get_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	GHashTable *store = user_data;
	const char *key = json_object_get_string_member(params, "key");
	JsonNode *value = g_hash_table_lookup(store, key);
	g_autofree char *message = NULL;
	JsonObject *object;
	g_autoptr(JsonNode) data = NULL;

	if (value == NULL) {
		message = g_strdup_printf("key not found: %s", key);
		stdiolink_driver_reply_error(reply, 2, message);
		return;
	}
	object = json_object_new();
	json_object_set_string_member(object, "key", key);
	json_object_set_member(object, "value", json_node_copy(value));
	data = result_node(object);
	stdiolink_driver_reply_done(reply, data);
}

static void
delete_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	GHashTable *store = user_data;
	JsonObject *object = json_object_new();
	g_autoptr(JsonNode) data = NULL;

	json_object_set_boolean_member(
	    object, "deleted",
	    g_hash_table_remove(store, json_object_get_string_member(params, "key")));
	data = result_node(object);
	stdiolink_driver_reply_done(reply, data);
}

static void
list_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	GHashTable *store = user_data;
	const char *prefix = json_object_get_string_member(params, "prefix");
	g_autoptr(GPtrArray) keys = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;
	JsonArray *array = json_array_new();
	JsonObject *object = json_object_new();
	g_autoptr(JsonNode) data = NULL;

	g_hash_table_iter_init(&iter, store);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (g_str_has_prefix(key, prefix))
			g_ptr_array_add(keys, key);
	}
	stdiolink_sort_strings(keys);
	for (guint i = 0; i < keys->len; i++)
		json_array_add_string_element(array, keys->pdata[i]);
	json_object_set_array_member(object, "keys", array);
	json_object_set_int_member(object, "count", keys->len);
	data = result_node(object);
	stdiolink_driver_reply_done(reply, data);
}

static void
clear_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	GHashTable *store = user_data;
	JsonObject *object = json_object_new();
	g_autoptr(JsonNode) data = NULL;

	json_object_set_int_member(object, "removed", g_hash_table_size(store));
	g_hash_table_remove_all(store);
	data = result_node(object);
	stdiolink_driver_reply_done(reply, data);
}

int
main(int argc, char **argv)
{
	g_autoptr(StdiolinkDriverHelper) helper = NULL;
	g_autoptr(GHashTable) store = NULL;
	g_autoptr(GError) error = NULL;

	store = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				      (GDestroyNotify)json_node_unref);
	helper = stdiolink_driver_helper_new("demo.kvstore", "Key-value store", "1.0.0");
	stdiolink_driver_helper_set_description(
	    helper, "An in-memory key-value store; use the keepalive profile to keep values");
	stdiolink_driver_helper_set_vendor(helper, "stdiolink demo");
	if (!stdiolink_driver_helper_add_command(helper, set_meta, set_cb, store, &error) ||
	    !stdiolink_driver_helper_add_command(helper, get_meta, get_cb, store, &error) ||
	    !stdiolink_driver_helper_add_command(helper, delete_meta, delete_cb, store, &error) ||
	    !stdiolink_driver_helper_add_command(helper, list_meta, list_cb, store, &error) ||
	    !stdiolink_driver_helper_add_command(helper, clear_meta, clear_cb, store, &error))
		g_error("kvstore: %s", error->message);
	return stdiolink_driver_helper_run(helper, argc, argv);
}
