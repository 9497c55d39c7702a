#include "config.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

#define META_A "{\"schemaVersion\": \"1.0\", \"info\": {\"id\": \"drv.a\", \"name\": \"A\"," \
	       " \"version\": \"1.2\"}}\n"
/* md5sum of META_A, computed outside this test */
#define META_A_MD5 "d94d415376f83e36bf33e45d50b98968"

/* warnings of the scanner, as "<dir>: <reason>", captured from the structured log */
static GPtrArray *scan_warnings;

/* a driver folder; %NULL leaves the meta file or the executable out */
static char *
make_driver(const char *parent, const char *name, const char *meta, const char *exe)
{
	char *dir = sl_test_make_dir(parent, name);

	if (meta != NULL)
		sl_test_write_file(dir, "driver.meta.json", meta, 0644);
	if (exe != NULL)
		sl_test_write_file(dir, exe, "#!/bin/sh\nexit 0\n", 0755);
	return dir;
}

static void
test_driver_catalog_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("stdiolink-driver-XXXXXX");
	g_autofree char *drivers = g_build_filename(root, "drivers", NULL);
	g_autofree char *a = make_driver(drivers, "a_ok", META_A, "stdio.drv.a");
	g_autofree char *b = make_driver(drivers, "B_alias",
					 "{\"driver\": {\"id\": \"drv.b\", \"name\": \"B\"}}",
					 "stdio.drv.b");
	g_autofree char *c = make_driver(drivers, "c_noid", "{\"info\": {\"name\": \"x\"}}",
					 "stdio.drv.c");
	g_autofree char *d = make_driver(drivers, "d_noexe", "{\"info\": {\"id\": \"drv.d\"}}",
					 "other");
	g_autofree char *e = make_driver(drivers, "e.failed", META_A, "stdio.drv.e");
	g_autofree char *f = make_driver(drivers, "f_nometa", NULL, "stdio.drv.f");
	g_autofree char *g1 = make_driver(drivers, "g_dup", "{\"info\": {\"id\": \"drv.dup\"}}",
					  "stdio.drv.g");
	g_autofree char *g2 = make_driver(drivers, "h_dup",
					  "{\"info\": {\"id\": \"drv.dup\", \"version\": \"2\"}}",
					  "stdio.drv.h");
	g_autofree char *hidden = make_driver(drivers, ".hidden", META_A, "stdio.drv.x");
	g_autofree char *i = make_driver(drivers, "i_badjson", "{\"info\":", "stdio.drv.i");
	g_autofree char *j = make_driver(drivers, "j_array", "[1]", "stdio.drv.j");
	g_autofree char *k = make_driver(drivers, "k_info_wins",
					 "{\"info\": 5, \"driver\": {\"id\": \"drv.k\"}}",
					 "stdio.drv.k");
	g_autofree char *l = make_driver(drivers, "l_idnum", "{\"info\": {\"id\": 5}}",
					 "stdio.drv.l");
	g_autofree char *program_h = g_build_filename(g2, "stdio.drv.h", NULL);
	g_autofree char *d_plain = NULL;
	g_autoptr(GPtrArray) catalog = NULL;
	StdiolinkDriverScanStats stats = {9, 9, 9, 9};

	/* a stdio.drv.* file that is not executable does not count */
	sl_test_write_file(d, "stdio.drv.d", "#!/bin/sh\n", 0644);

	catalog = stdiolink_driver_catalog_load(drivers, &stats);
	g_assert_cmpuint(stats.skipped_failed, ==, 1);
	g_assert_cmpuint(stats.scanned, ==, 11);
	g_assert_cmpuint(stats.updated, ==, 4);
	g_assert_cmpuint(stats.newly_failed, ==, 0);

	/* sorted by id; the later folder wins a shared id */
	g_assert_cmpuint(catalog->len, ==, 3);
	g_assert_cmpstr(stdiolink_driver_get_id(catalog->pdata[0]), ==, "drv.a");
	g_assert_cmpstr(stdiolink_driver_get_id(catalog->pdata[1]), ==, "drv.b");
	g_assert_cmpstr(stdiolink_driver_get_name(catalog->pdata[1]), ==, "B");
	g_assert_cmpstr(stdiolink_driver_get_version(catalog->pdata[1]), ==, "");
	g_assert_cmpstr(stdiolink_driver_get_id(catalog->pdata[2]), ==, "drv.dup");
	g_assert_cmpstr(stdiolink_driver_get_program(catalog->pdata[2]), ==, program_h);
	g_assert_cmpstr(stdiolink_driver_get_dir(catalog->pdata[2]), ==, g2);
	g_assert_cmpstr(stdiolink_driver_get_version(catalog->pdata[2]), ==, "2");

	/* every skipped folder is logged with its reason; .failed ones silently */
	g_assert_cmpuint(scan_warnings->len, ==, 7);
	d_plain = g_strdup_printf("%s: no executable stdio.drv.* in driver directory: %s", d, d);
	g_assert_cmpstr(scan_warnings->pdata[1], ==, d_plain);
	for (guint n = 0; n < scan_warnings->len; n++)
		g_test_message("%s", (const char *)scan_warnings->pdata[n]);
	g_ptr_array_set_size(scan_warnings, 0);
	sl_test_remove_tree(root);
}

static void
assert_driver_fails(const char *dir, const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkDriver) driver = stdiolink_driver_load(dir, &error);

	g_assert_null(driver);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA);
	if (!g_str_has_prefix(error->message, message))
		g_error("'%s' does not start with '%s'", error->message, message);
}

static void
test_driver_load_errors_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-driver-XXXXXX");
	g_autofree char *nometa = make_driver(tmp, "nometa", NULL, "stdio.drv.x");
	g_autofree char *noid = make_driver(tmp, "noid", "{\"info\": {\"id\": \"\"}}",
					    "stdio.drv.x");
	g_autofree char *bad = make_driver(tmp, "bad", "nope", "stdio.drv.x");
	g_autofree char *arr = make_driver(tmp, "arr", "[]", "stdio.drv.x");
	g_autofree char *noexe = make_driver(tmp, "noexe", META_A, NULL);
	g_autofree char *msg = NULL;

	msg = g_strdup_printf("missing driver.meta.json in driver directory: %s", nometa);
	assert_driver_fails(nometa, msg);
	g_free(msg);
	msg = g_strdup_printf("driver meta has no info.id: %s/driver.meta.json", noid);
	assert_driver_fails(noid, msg);
	g_free(msg);
	msg = g_strdup_printf("driver meta parse error: %s/driver.meta.json: ", bad);
	assert_driver_fails(bad, msg);
	g_free(msg);
	msg = g_strdup_printf("driver meta must contain a JSON object: %s/driver.meta.json", arr);
	assert_driver_fails(arr, msg);
	g_free(msg);
	msg = g_strdup_printf("no executable stdio.drv.* in driver directory: %s", noexe);
	assert_driver_fails(noexe, msg);
	sl_test_remove_tree(tmp);
}

static void
test_driver_executable_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-driver-XXXXXX");
	g_autofree char *dir = make_driver(tmp, "d", NULL, "stdio.drv.Zeta");
	g_autofree char *target = g_build_filename(tmp, "real-driver", NULL);
	g_autofree char *link = g_build_filename(dir, "stdio.drv.beta", NULL);
	g_autofree char *folder = g_build_filename(dir, "stdio.drv.0folder", NULL);
	g_autofree char *found = NULL;
	g_autofree char *expected = NULL;

	sl_test_write_file(dir, "stdio.drv.Alpha", "#!/bin/sh\n", 0644);
	sl_test_write_file(dir, "aaa", "#!/bin/sh\n", 0755);
	sl_test_write_file(dir, "xstdio.drv.a", "#!/bin/sh\n", 0755);
	g_assert_cmpint(g_mkdir(folder, 0755), ==, 0);

	/* only executable regular files with the prefix count */
	found = stdiolink_driver_find_executable(dir);
	expected = g_build_filename(dir, "stdio.drv.Zeta", NULL);
	g_assert_cmpstr(found, ==, expected);
	g_clear_pointer(&found, g_free);

	/* a symlink to an executable file counts, ordered case-insensitively */
	sl_test_write_file(tmp, "real-driver", "#!/bin/sh\n", 0755);
	g_assert_cmpint(symlink(target, link), ==, 0);
	found = stdiolink_driver_find_executable(dir);
	g_assert_cmpstr(found, ==, link);
	g_clear_pointer(&found, g_free);

	sl_test_write_file(dir, "stdio.drv.Alpha", "#!/bin/sh\n", 0755);
	found = stdiolink_driver_find_executable(dir);
	g_free(expected);
	expected = g_build_filename(dir, "stdio.drv.Alpha", NULL);
	g_assert_cmpstr(found, ==, expected);

	g_assert_null(stdiolink_driver_find_executable("/nonexistent/driver"));
	sl_test_remove_tree(tmp);
}

static void
test_driver_missing_dir_func(void)
{
	StdiolinkDriverScanStats stats = {1, 1, 1, 1};
	g_autoptr(GPtrArray) catalog = stdiolink_driver_catalog_load("/nonexistent/drivers",
								     &stats);

	g_assert_cmpuint(catalog->len, ==, 0);
	g_assert_cmpuint(stats.scanned + stats.updated + stats.newly_failed + stats.skipped_failed,
			 ==, 0);
}

static void
test_driver_meta_hash_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("stdiolink-driver-XXXXXX");
	g_autofree char *dir = make_driver(tmp, "a", META_A, "stdio.drv.a");
	g_autofree char *same = make_driver(tmp, "b",
					    "{\"info\":{\"id\":\"drv.a\",\"name\":\"A\","
					    "\"version\":\"1.2\"},\"schemaVersion\":\"1.0\"}",
					    "stdio.drv.a");
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkDriver) driver = stdiolink_driver_load(dir, &error);
	g_autoptr(StdiolinkDriver) other = NULL;

	g_assert_no_error(error);
	g_assert_cmpstr(stdiolink_driver_get_meta_hash(driver), ==, META_A_MD5);

	/* the hash covers the bytes, not the meaning */
	other = stdiolink_driver_load(same, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(stdiolink_driver_get_meta_hash(other), !=, META_A_MD5);
	g_assert_cmpuint(strlen(stdiolink_driver_get_meta_hash(other)), ==, 32);
	sl_test_remove_tree(tmp);
}

static void
check_normalized(const char *raw, const char *expected)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = stdiolink_json_parse(raw, -1, &error);
	g_autoptr(JsonNode) normalized = NULL;
	g_autofree char *text = NULL;

	g_assert_no_error(error);
	normalized = stdiolink_driver_meta_normalize(json_node_get_object(node));
	text = stdiolink_json_to_string(normalized, STDIOLINK_JSON_COMPACT);
	g_assert_cmpstr(text, ==, expected);
}

/* VERIFIED.md claim 28: `driver` alias, schemaVersion "", config omitted, returns default,
 * type and min coercion */
static void
test_driver_normalize_alias_func(void)
{
	check_normalized(
	    "{\"driver\": {\"id\": \"alias.drv\", \"name\": \"Alias\", \"version\": \"2.0\","
	    "  \"vendor\": \"\", \"extra\": 1},"
	    " \"config\": {\"apply\": {\"envPrefix\": \"X_\"}},"
	    " \"commands\": [{\"name\": \"run\", \"params\": [{\"name\": \"n\","
	    "   \"type\": \"integer\", \"min\": \"x\"},"
	    "   {\"name\": \"b\", \"type\": \"boolean\", \"required\": \"yes\"}, 7]},"
	    "  {\"name\": \"get\", \"returns\": {\"description\": \"r\"}},"
	    "  {\"name\": \"num\", \"returns\": {\"type\": \"number\","
	    "   \"fields\": [{\"name\": \"v\", \"type\": \"Double\"}]}},"
	    "  \"bogus\"],"
	    " \"bogus\": true}",
	    "{\"commands\":[{\"name\":\"run\",\"params\":["
	    "{\"min\":0,\"name\":\"n\",\"type\":\"int\"},"
	    "{\"name\":\"b\",\"type\":\"bool\"},{\"type\":\"any\"}],"
	    "\"returns\":{\"type\":\"object\"}},"
	    "{\"name\":\"get\",\"returns\":{\"description\":\"r\",\"type\":\"any\"}},"
	    "{\"name\":\"num\",\"returns\":{\"fields\":[{\"name\":\"v\",\"type\":\"any\"}],"
	    "\"type\":\"double\"}},"
	    "{\"name\":\"\",\"returns\":{\"type\":\"object\"}}],"
	    "\"info\":{\"id\":\"alias.drv\",\"name\":\"Alias\",\"version\":\"2.0\"},"
	    "\"schemaVersion\":\"\"}");
}

static void
test_driver_normalize_full_func(void)
{
	check_normalized(
	    "{\"schemaVersion\": \"1.0\","
	    " \"info\": {\"id\": \"full\", \"name\": \"Full\", \"version\": \"1\","
	    "  \"description\": \"desc\", \"vendor\": \"v\", \"entry\": {\"program\": \"x\","
	    "  \"args\": [1]}, \"capabilities\": [\"a\", 1], \"profiles\": [], \"junk\": 1},"
	    " \"driver\": {\"id\": \"ignored\"},"
	    " \"config\": {\"fields\": [{\"name\": \"host\", \"type\": \"string\","
	    "  \"default\": \"h\"}],"
	    "  \"apply\": {\"method\": \"startupArgs\", \"fileName\": \"\", \"command\": \"c\","
	    "  \"other\": 1}},"
	    " \"commands\": [{\"name\": \"scan\", \"description\": \"d\", \"title\": \"t\","
	    "   \"summary\": \"s\", \"events\": [{\"name\": \"progress\", \"fields\": [{\"name\":"
	    "   \"pct\", \"type\": \"int\"}]}, {\"name\": \"done\", \"fields\": []}, 3],"
	    "   \"errors\": [{\"code\": 1, \"x\": [1]}, \"bad\"],"
	    "   \"examples\": [{\"description\": \"e\", \"mode\": \"stdio\", \"params\": {}}],"
	    "   \"ui\": {\"group\": \"g\", \"order\": 0, \"bogus\": 1},"
	    "   \"returns\": {\"type\": \"object\", \"fields\": []}, \"unknown\": 1},"
	    "  {\"name\": \"quiet\", \"ui\": {\"order\": 0}, \"params\": []}],"
	    " \"types\": {\"Point\": {\"name\": \"p\", \"type\": \"object\","
	    "  \"fields\": [{\"name\": \"x\", \"type\": \"double\"}]}},"
	    " \"errors\": [{\"code\": \"E1\"}, 5],"
	    " \"examples\": []}",
	    "{\"commands\":[{\"description\":\"d\",\"errors\":[{\"code\":1,\"x\":[1]},{}],"
	    "\"events\":[{\"fields\":[{\"name\":\"pct\",\"type\":\"int\"}],\"name\":\"progress\"},"
	    "{\"name\":\"done\"},{\"name\":\"\"}],"
	    "\"examples\":[{\"description\":\"e\",\"mode\":\"stdio\",\"params\":{}}],"
	    "\"name\":\"scan\",\"returns\":{\"type\":\"object\"},\"summary\":\"s\",\"title\":\"t\","
	    "\"ui\":{\"group\":\"g\"}},"
	    "{\"name\":\"quiet\",\"returns\":{\"type\":\"object\"}}],"
	    "\"config\":{\"apply\":{\"command\":\"c\",\"method\":\"startupArgs\"},"
	    "\"fields\":[{\"default\":\"h\",\"name\":\"host\",\"type\":\"string\"}]},"
	    "\"errors\":[{\"code\":\"E1\"},{}],"
	    "\"info\":{\"capabilities\":[\"a\",\"\"],\"description\":\"desc\","
	    "\"entry\":{\"args\":[1],\"program\":\"x\"},\"id\":\"full\",\"name\":\"Full\","
	    "\"vendor\":\"v\",\"version\":\"1\"},"
	    "\"schemaVersion\":\"1.0\","
	    "\"types\":{\"Point\":{\"fields\":[{\"name\":\"x\",\"type\":\"double\"}],"
	    "\"name\":\"p\","
	    "\"type\":\"object\"}}}");
}

static void
test_driver_normalize_edges_func(void)
{
	/* `info` wins over `driver` whenever the key exists */
	check_normalized("{\"info\": 5, \"driver\": {\"id\": \"x\"}}",
			 "{\"info\":{\"id\":\"\",\"name\":\"\",\"version\":\"\"},"
			 "\"schemaVersion\":\"\"}");
	check_normalized("{}", "{\"info\":{\"id\":\"\",\"name\":\"\",\"version\":\"\"},"
			       "\"schemaVersion\":\"\"}");

	/* config appears with an apply method alone; apply then always appears */
	check_normalized("{\"schemaVersion\": 1, \"config\": {\"apply\": {\"method\": \"env\"},"
			 " \"fields\": {}}}",
			 "{\"config\":{\"apply\":{\"method\":\"env\"}},"
			 "\"info\":{\"id\":\"\",\"name\":\"\",\"version\":\"\"},"
			 "\"schemaVersion\":\"\"}");
	check_normalized("{\"config\": {\"fields\": [{\"name\": \"a\"}]}}",
			 "{\"config\":{\"apply\":{},"
			 "\"fields\":[{\"name\":\"a\",\"type\":\"any\"}]},"
			 "\"info\":{\"id\":\"\",\"name\":\"\",\"version\":\"\"},"
			 "\"schemaVersion\":\"\"}");
	check_normalized("{\"config\": 3, \"commands\": {}, \"types\": {}, \"errors\": {},"
			 " \"info\": {\"entry\": {}, \"capabilities\": \"a\"}}",
			 "{\"info\":{\"id\":\"\",\"name\":\"\",\"version\":\"\"},"
			 "\"schemaVersion\":\"\"}");

	/* returns that is not an object reads as {}: type any */
	check_normalized("{\"commands\": [{\"name\": \"c\", \"returns\": \"x\"}]}",
			 "{\"commands\":[{\"name\":\"c\",\"returns\":{\"type\":\"any\"}}],"
			 "\"info\":{\"id\":\"\",\"name\":\"\",\"version\":\"\"},"
			 "\"schemaVersion\":\"\"}");
}

static void
test_driver_views_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("stdiolink-driver-XXXXXX");
	g_autofree char *drivers = g_build_filename(root, "drivers", NULL);
	g_autofree char *dir = make_driver(drivers, "a", META_A, "stdio.drv.a");
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkDriver) driver = stdiolink_driver_load(dir, &error);
	g_autoptr(JsonNode) list = NULL;
	g_autoptr(JsonNode) detail = NULL;
	g_autoptr(JsonNode) outside = NULL;
	g_autofree char *text = NULL;
	g_autofree char *expected = NULL;

	g_assert_no_error(error);
	list = stdiolink_driver_to_list_json(driver, root);
	text = stdiolink_json_to_string(list, STDIOLINK_JSON_COMPACT);
	expected = g_strdup_printf("{\"id\":\"drv.a\",\"metaHash\":\"" META_A_MD5 "\","
				   "\"name\":\"A\",\"program\":\"%s/stdio.drv.a\","
				   "\"programDisplay\":\"drivers/a/stdio.drv.a\","
				   "\"version\":\"1.2\"}",
				   dir);
	g_assert_cmpstr(text, ==, expected);
	g_clear_pointer(&text, g_free);
	g_clear_pointer(&expected, g_free);

	detail = stdiolink_driver_to_detail_json(driver, root);
	text = stdiolink_json_to_string(detail, STDIOLINK_JSON_COMPACT);
	expected = g_strdup_printf("{\"id\":\"drv.a\",\"meta\":{\"info\":{\"id\":\"drv.a\","
				   "\"name\":\"A\",\"version\":\"1.2\"},\"schemaVersion\":\"1.0\"},"
				   "\"metaHash\":\"" META_A_MD5 "\","
				   "\"program\":\"%s/stdio.drv.a\","
				   "\"programDisplay\":\"drivers/a/stdio.drv.a\"}",
				   dir);
	g_assert_cmpstr(text, ==, expected);

	outside = stdiolink_driver_to_list_json(driver, "/elsewhere");
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(outside),
						      "programDisplay"),
			==, "--");

	/* the raw meta is kept as read */
	g_assert_cmpstr(json_object_get_string_member(stdiolink_driver_get_meta(driver),
						      "schemaVersion"),
			==, "1.0");
	sl_test_remove_tree(root);
}

int
main(int argc, char **argv)
{
	scan_warnings = sl_test_capture_scan_warnings("STDIOLINK_DRIVER_DIR");
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/driver/catalog", test_driver_catalog_func);
	g_test_add_func("/driver/load-errors", test_driver_load_errors_func);
	g_test_add_func("/driver/executable", test_driver_executable_func);
	g_test_add_func("/driver/missing-dir", test_driver_missing_dir_func);
	g_test_add_func("/driver/meta-hash", test_driver_meta_hash_func);
	g_test_add_func("/driver/normalize-alias", test_driver_normalize_alias_func);
	g_test_add_func("/driver/normalize-full", test_driver_normalize_full_func);
	g_test_add_func("/driver/normalize-edges", test_driver_normalize_edges_func);
	g_test_add_func("/driver/views", test_driver_views_func);

	return g_test_run();
}
