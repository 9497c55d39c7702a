#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

/*
 * The service files layer on real folders: path checks, the four operations, listing,
 * folder removal and service creation. The hostile paths run against a tree with links
 * that point out of the service folder, and the whole tree is compared before and after.
 */

#define MANIFEST                                                                              \
	"{\"manifestVersion\": \"1\", \"id\": \"demo\", \"name\": \"Demo\", \"version\": \"1\"}"

typedef struct {
	char *root;	/* the temp folder holding both of the below */
	char *service;	/* root/service */
	char *outside;	/* root/outside, which nothing may touch */
} Tree;

static void
make_link(const char *target, const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	g_assert_cmpint(symlink(target, path), ==, 0);
}

/*
 * root/outside/secret.txt, root/outside/dir/; root/service with the core files,
 * sub/a.txt and links: to outside (folder, file, absolute, dangling), and one to inside
 */
static void
tree_init(Tree *tree)
{
	g_autofree char *sub = NULL;

	tree->root = sl_test_make_tmp_dir("service-files-XXXXXX");
	tree->service = sl_test_make_dir(tree->root, "service");
	tree->outside = sl_test_make_dir(tree->root, "outside");
	sl_test_write_file(tree->outside, "secret.txt", "secret", 0644);
	g_free(sl_test_make_dir(tree->outside, "dir"));

	sl_test_write_file(tree->service, "manifest.json", MANIFEST, 0644);
	sl_test_write_file(tree->service, "index.js", "// js\n", 0644);
	sl_test_write_file(tree->service, "config.schema.json", "{}", 0644);
	sl_test_write_file(tree->service, "sub/a.txt", "inside", 0644);
	sub = g_build_filename(tree->service, "sub", NULL);

	make_link("../outside", tree->service, "link-dir");
	make_link("../outside/secret.txt", tree->service, "link-file");
	make_link("sub", tree->service, "link-inside");
	make_link("../../outside", sub, "link-up");
	make_link(tree->outside, tree->service, "abs-link");
	make_link("../outside/created-by-link.txt", tree->service, "dangling");
}

static void
tree_clear(Tree *tree)
{
	g_assert_true(sl_test_remove_tree(tree->root));
	g_free(tree->root);
	g_free(tree->service);
	g_free(tree->outside);
}

/* every entry below @dir as "path type detail", links not followed, sorted */
static void
snapshot_into(const char *dir, const char *prefix, GPtrArray *out)
{
	g_autoptr(GDir) handle = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(handle);
	while ((name = g_dir_read_name(handle)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *relative = g_build_filename(prefix, name, NULL);
		GStatBuf st;

		g_assert_cmpint(g_lstat(path, &st), ==, 0);
		if (S_ISLNK(st.st_mode)) {
			g_autofree char *target = g_file_read_link(path, NULL);

			g_ptr_array_add(out, g_strdup_printf("%s link %s", relative, target));
		} else if (S_ISDIR(st.st_mode)) {
			g_ptr_array_add(out, g_strdup_printf("%s dir %o", relative, st.st_mode));
			snapshot_into(path, relative, out);
		} else {
			g_autofree char *text = sl_test_read_file(path);

			g_ptr_array_add(out, g_strdup_printf("%s file %o %s", relative, st.st_mode,
							     text));
		}
	}
}

static char *
snapshot(const char *dir)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

	snapshot_into(dir, "", lines);
	stdiolink_sort_strings(lines);
	g_ptr_array_add(lines, NULL);
	return g_strjoinv("\n", (char **)lines->pdata);
}

static void
assert_error(const GError *error, StdiolinkError code, const char *message)
{
	g_assert_error(error, STDIOLINK_ERROR, (gint)code);
	g_assert_cmpstr(error->message, ==, message);
}

/* ---- the textual check ----------------------------------------------------------------- */

static void
test_normalize_func(void)
{
	static const struct {
		const char *path;
		const char *normalized;
	} good[] = {
		{"a.txt", "a.txt"},
		{"./a.txt", "a.txt"},
		{"sub//a.txt", "sub/a.txt"},
		{"sub/./a.txt", "sub/a.txt"},
		{"sub/a.txt/", "sub/a.txt"},
		{"..hidden", "..hidden"},
		{"a..b/c..", "a..b/c.."},
		{"...", "..."},
		{"with space.txt", "with space.txt"},
		{"100%.txt", "100%.txt"},
		{"%zz", "%zz"},
		{"ünïcødé/文件.md", "ünïcødé/文件.md"},
		{".hidden/x", ".hidden/x"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *normalized = stdiolink_service_path_normalize(good[i].path,
									       &error);

		g_assert_no_error(error);
		g_assert_cmpstr(normalized, ==, good[i].normalized);
	}
}

static void
test_core_files_func(void)
{
	g_assert_true(stdiolink_service_path_is_core_file("manifest.json"));
	g_assert_true(stdiolink_service_path_is_core_file("index.js"));
	g_assert_true(stdiolink_service_path_is_core_file("config.schema.json"));
	g_assert_true(stdiolink_service_path_is_core_file("./manifest.json"));
	g_assert_true(stdiolink_service_path_is_core_file(".//index.js"));
	g_assert_false(stdiolink_service_path_is_core_file("sub/manifest.json"));
	g_assert_false(stdiolink_service_path_is_core_file("run"));
	g_assert_false(stdiolink_service_path_is_core_file(NULL));
}

/* ---- hostile paths ------------------------------------------------------------------- */

/* each one must be refused before anything is read or written */
static const char *const hostile_paths[] = {
	/* absolute */
	"/etc/passwd",
	"//etc/passwd",
	"/",
	/* .. anywhere */
	"..",
	"../outside/secret.txt",
	"sub/../../outside/secret.txt",
	"sub/..",
	"sub/../..",
	"./../outside/secret.txt",
	"sub/./../../outside/dir/x",
	/* the folder itself */
	"",
	".",
	"./",
	".//.",
	/* backslashes */
	"..\\outside\\secret.txt",
	"sub\\..\\..\\outside",
	"a\\b",
	/* escapes left after one decoding: double encoding */
	"%2e%2e/outside/secret.txt",
	"%2e%2e%2foutside%2fsecret.txt",
	"..%2foutside",
	"sub/%2E%2E/x",
	"%252e%252e%252f",
	"%5c",
	"%00",
	/* control characters and bytes that are not UTF-8 */
	"a\001b",
	"tab\there",
	"new\nline",
	"del\177",
	"\377\376",
	"\300\256\300\256/outside",
	/* links whose real path leaves the folder, and one that stays inside */
	"link-dir/secret.txt",
	"link-dir/new.txt",
	"link-dir/dir/new.txt",
	"link-file",
	"abs-link/secret.txt",
	"sub/link-up/secret.txt",
	"sub/link-up/new.txt",
	"dangling",
	"link-inside/a.txt",
	"link-inside",
	/* a step that is a file */
	"manifest.json/x",
	"sub/a.txt/x",
};

typedef enum {
	OP_READ,
	OP_REPLACE,
	OP_CREATE,
	OP_DELETE,
} Op;

/* what the daemon does for one request, stopping at the first refusal */
static gboolean
run_op(const char *service, const char *path, Op op, GError **error)
{
	g_autoptr(StdiolinkServicePath) sp = stdiolink_service_path_open(service, path, error);
	g_autoptr(JsonNode) node = NULL;

	if (sp == NULL)
		return FALSE;
	switch (op) {
	case OP_READ:
		node = stdiolink_service_path_read(sp, path, error);
		return node != NULL;
	case OP_REPLACE:
		return stdiolink_service_path_replace(sp, "pwned", 5, error);
	case OP_CREATE:
		return stdiolink_service_path_create(sp, "pwned", 5, error);
	case OP_DELETE:
	default:
		return stdiolink_service_path_delete(sp, error);
	}
}

static void
assert_refused(const char *service, const char *path)
{
	for (Op op = OP_READ; op <= OP_DELETE; op++) {
		g_autoptr(GError) error = NULL;

		if (run_op(service, path, op, &error))
			g_error("hostile path \"%s\" was accepted by operation %d", path, op);
		if (error->code != STDIOLINK_ERROR_BAD_REQUEST)
			g_error("hostile path \"%s\", operation %d: %s", path, op, error->message);
		assert_error(error, STDIOLINK_ERROR_BAD_REQUEST,
			     "path rejected: unsafe or invalid");
	}
}

static void
test_hostile_paths_func(void)
{
	Tree tree;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;
	g_autofree char *long_name = g_strnfill(256, 'a');
	g_autoptr(GString) long_path = g_string_new(NULL);

	tree_init(&tree);
	before = snapshot(tree.root);

	g_assert_cmpuint(G_N_ELEMENTS(hostile_paths), >=, 20);
	for (guint i = 0; i < G_N_ELEMENTS(hostile_paths); i++)
		assert_refused(tree.service, hostile_paths[i]);

	/* over-long: one name over 255 bytes, a path over 4095 */
	assert_refused(tree.service, long_name);
	while (long_path->len <= 4095)
		g_string_append(long_path, "d/");
	g_string_append(long_path, "f");
	assert_refused(tree.service, long_path->str);

	after = snapshot(tree.root);
	g_assert_cmpstr(after, ==, before);
	tree_clear(&tree);
}

/* a folder swapped for a link after the walk began is still not followed */
static void
test_symlink_escape_func(void)
{
	Tree tree;
	g_autofree char *sub = NULL;
	g_autofree char *moved = NULL;
	g_autofree char *outside_file = NULL;
	g_autoptr(StdiolinkServicePath) sp = NULL;
	g_autoptr(GError) error = NULL;

	tree_init(&tree);
	sub = g_build_filename(tree.service, "deep", NULL);
	g_free(sl_test_make_dir(sub, "x"));
	sp = stdiolink_service_path_open(tree.service, "deep/x/new.txt", &error);
	g_assert_no_error(error);

	/* replace deep/ by a link to outside/ once the path is held */
	moved = g_build_filename(tree.root, "deep-moved", NULL);
	g_assert_cmpint(g_rename(sub, moved), ==, 0);
	make_link("../outside", tree.service, "deep");
	g_assert_true(stdiolink_service_path_create(sp, "data", 4, &error));
	g_assert_no_error(error);

	/* the file went into the folder that was checked, not through the link */
	outside_file = g_build_filename(tree.outside, "x", "new.txt", NULL);
	g_assert_false(g_file_test(outside_file, G_FILE_TEST_EXISTS));
	g_free(outside_file);
	outside_file = g_build_filename(moved, "x", "new.txt", NULL);
	g_assert_true(g_file_test(outside_file, G_FILE_TEST_IS_REGULAR));

	/* and a fresh walk refuses the link */
	g_clear_pointer(&sp, stdiolink_service_path_free);
	assert_refused(tree.service, "deep/x/new.txt");
	tree_clear(&tree);
}

/* ---- the operations ------------------------------------------------------------------ */

static JsonObject *
read_ok(const char *service, const char *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkServicePath) sp = stdiolink_service_path_open(service, path, &error);
	JsonNode *node;
	JsonObject *object;

	g_assert_no_error(error);
	node = stdiolink_service_path_read(sp, path, &error);
	g_assert_no_error(error);
	object = json_object_ref(json_node_get_object(node));
	json_node_unref(node);
	return object;
}

static void
read_fails(const char *service, const char *path, StdiolinkError code, const char *message)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(run_op(service, path, OP_READ, &error));
	assert_error(error, code, message);
}

static void
test_read_func(void)
{
	Tree tree;
	g_autoptr(JsonObject) file = NULL;
	g_autofree char *big = g_strnfill(STDIOLINK_SERVICE_FILE_MAX + 1, 'x');
	g_autofree char *fifo = NULL;

	tree_init(&tree);
	file = read_ok(tree.service, "./sub//a.txt");
	g_assert_cmpstr(json_object_get_string_member(file, "path"), ==, "./sub//a.txt");
	g_assert_cmpstr(json_object_get_string_member(file, "content"), ==, "inside");
	g_assert_cmpint(json_object_get_int_member(file, "size"), ==, 6);
	g_assert_true(g_str_has_suffix(json_object_get_string_member(file, "modifiedAt"), "Z"));
	g_clear_pointer(&file, json_object_unref);

	/* bytes that are not UTF-8 become U+FFFD; the size stays the byte count */
	sl_test_write_file(tree.service, "bin.dat", "a\377b", 0644);
	file = read_ok(tree.service, "bin.dat");
	g_assert_cmpstr(json_object_get_string_member(file, "content"), ==, "a\357\277\275b");
	g_assert_cmpint(json_object_get_int_member(file, "size"), ==, 3);

	read_fails(tree.service, "missing.txt", STDIOLINK_ERROR_NOT_FOUND, "file not found");
	read_fails(tree.service, "nowhere/missing.txt", STDIOLINK_ERROR_NOT_FOUND,
		   "file not found");
	read_fails(tree.service, "sub", STDIOLINK_ERROR_NOT_FOUND, "file not found");

	/* a FIFO is not a file and must not hang the reader */
	fifo = g_build_filename(tree.service, "fifo", NULL);
	g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
	read_fails(tree.service, "fifo", STDIOLINK_ERROR_NOT_FOUND, "file not found");

	sl_test_write_file(tree.service, "big.txt", big, 0644);
	read_fails(tree.service, "big.txt", STDIOLINK_ERROR_PAYLOAD_TOO_LARGE,
		   "file too large (max 1MB)");
	big[STDIOLINK_SERVICE_FILE_MAX] = '\0';
	sl_test_write_file(tree.service, "max.txt", big, 0644);
	g_clear_pointer(&file, json_object_unref);
	file = read_ok(tree.service, "max.txt");
	g_assert_cmpint(json_object_get_int_member(file, "size"), ==, STDIOLINK_SERVICE_FILE_MAX);
	tree_clear(&tree);
}

static gboolean
has_temp_files(const char *dir)
{
	g_autoptr(GDir) handle = g_dir_open(dir, 0, NULL);
	const char *name;

	while ((name = g_dir_read_name(handle)) != NULL) {
		if (g_str_has_prefix(name, ".stdiolink-"))
			return TRUE;
	}
	return FALSE;
}

static void
test_replace_func(void)
{
	Tree tree;
	g_autoptr(GError) error = NULL;
	g_autofree char *run = NULL;
	g_autofree char *text = NULL;
	GStatBuf st;

	tree_init(&tree);
	sl_test_write_file(tree.service, "run", "#!/bin/sh\n", 0755);
	{
		g_autoptr(StdiolinkServicePath) sp = stdiolink_service_path_open(tree.service,
										  "run", &error);

		g_assert_no_error(error);
		g_assert_true(stdiolink_service_path_is_file(sp));
		g_assert_true(stdiolink_service_path_replace(sp, "#!/bin/sh\nexit 3\n", 17,
							     &error));
		g_assert_no_error(error);
	}

	/* the entry keeps its permissions and no temporary file is left */
	run = g_build_filename(tree.service, "run", NULL);
	text = sl_test_read_file(run);
	g_assert_cmpstr(text, ==, "#!/bin/sh\nexit 3\n");
	g_assert_cmpint(g_stat(run, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0755);
	g_assert_false(has_temp_files(tree.service));

	g_assert_false(run_op(tree.service, "missing.txt", OP_REPLACE, &error));
	assert_error(error, STDIOLINK_ERROR_NOT_FOUND, "file not found");
	g_clear_error(&error);
	g_assert_false(run_op(tree.service, "sub", OP_REPLACE, &error));
	assert_error(error, STDIOLINK_ERROR_NOT_FOUND, "file not found");
	tree_clear(&tree);
}

static void
test_create_func(void)
{
	Tree tree;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	GStatBuf st;

	tree_init(&tree);
	g_assert_true(run_op(tree.service, "new/deeper/note.md", OP_CREATE, &error));
	g_assert_no_error(error);
	path = g_build_filename(tree.service, "new", "deeper", "note.md", NULL);
	text = sl_test_read_file(path);
	g_assert_cmpstr(text, ==, "pwned");
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0111, ==, 0);

	/* a script is created executable */
	{
		g_autoptr(StdiolinkServicePath) sp = stdiolink_service_path_open(tree.service,
										  "tool", &error);

		g_assert_no_error(error);
		g_assert_false(stdiolink_service_path_exists(sp));
		g_assert_true(stdiolink_service_path_create(sp, "#!/bin/sh\n", 10, &error));
		g_assert_no_error(error);
	}
	g_free(path);
	path = g_build_filename(tree.service, "tool", NULL);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_EXECUTABLE));

	g_assert_false(run_op(tree.service, "sub/a.txt", OP_CREATE, &error));
	assert_error(error, STDIOLINK_ERROR_CONFLICT, "file already exists");
	g_clear_error(&error);
	g_assert_false(run_op(tree.service, "sub", OP_CREATE, &error));
	assert_error(error, STDIOLINK_ERROR_CONFLICT, "file already exists");
	g_assert_false(has_temp_files(tree.service));
	tree_clear(&tree);
}

/* the name appears between the check and the rename: it is not replaced */
static void
test_create_race_func(void)
{
	Tree tree;
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkServicePath) sp = NULL;
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;

	tree_init(&tree);
	sp = stdiolink_service_path_open(tree.service, "late.txt", &error);
	g_assert_no_error(error);
	sl_test_write_file(tree.service, "late.txt", "first", 0644);
	g_assert_false(stdiolink_service_path_create(sp, "second", 6, &error));
	assert_error(error, STDIOLINK_ERROR_CONFLICT, "file already exists");

	path = g_build_filename(tree.service, "late.txt", NULL);
	text = sl_test_read_file(path);
	g_assert_cmpstr(text, ==, "first");
	g_assert_false(has_temp_files(tree.service));
	tree_clear(&tree);
}

static void
test_delete_func(void)
{
	Tree tree;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	tree_init(&tree);
	g_assert_true(run_op(tree.service, "sub/a.txt", OP_DELETE, &error));
	g_assert_no_error(error);
	path = g_build_filename(tree.service, "sub", "a.txt", NULL);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	g_assert_false(run_op(tree.service, "sub/a.txt", OP_DELETE, &error));
	assert_error(error, STDIOLINK_ERROR_NOT_FOUND, "file not found");
	g_clear_error(&error);

	/* a folder is not a file */
	g_assert_false(run_op(tree.service, "sub", OP_DELETE, &error));
	assert_error(error, STDIOLINK_ERROR_INTERNAL, "failed to delete file");
	tree_clear(&tree);
}

/* ---- two writers at once ------------------------------------------------------------- */

#define WRITERS	      4
#define WRITES	      12
#define VERSION_BYTES (256 * 1024)

typedef struct {
	const char *service;
	char letter;
	gboolean *stop;
} Writer;

static gpointer
writer_thread(gpointer data)
{
	Writer *writer = data;
	g_autofree char *content = g_strnfill(VERSION_BYTES, writer->letter);

	for (guint i = 0; i < WRITES; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkServicePath) sp =
		    stdiolink_service_path_open(writer->service, "shared.txt", &error);

		g_assert_no_error(error);
		g_assert_true(stdiolink_service_path_replace(sp, content, VERSION_BYTES, &error));
		g_assert_no_error(error);
	}
	return NULL;
}

/* every version read is one writer's whole text */
static void
assert_whole(const char *content)
{
	gsize length = strlen(content);

	g_assert_cmpuint(length, ==, VERSION_BYTES);
	for (gsize i = 1; i < length; i++) {
		if (content[i] != content[0])
			g_error("torn version: byte %" G_GSIZE_FORMAT " differs", i);
	}
}

static gpointer
reader_thread(gpointer data)
{
	Writer *reader = data;
	guint reads = 0;

	while (!g_atomic_int_get(reader->stop) || reads == 0) {
		g_autoptr(JsonObject) file = read_ok(reader->service, "shared.txt");

		assert_whole(json_object_get_string_member(file, "content"));
		reads++;
	}
	return NULL;
}

static void
test_concurrent_writes_func(void)
{
	Tree tree;
	g_autofree char *initial = g_strnfill(VERSION_BYTES, 'z');
	Writer writers[WRITERS];
	GThread *threads[WRITERS];
	GThread *reader;
	gboolean stop = FALSE;
	Writer reading = {NULL, 0, &stop};
	g_autoptr(JsonObject) file = NULL;

	tree_init(&tree);
	sl_test_write_file(tree.service, "shared.txt", initial, 0644);
	reading.service = tree.service;
	reader = g_thread_new("reader", reader_thread, &reading);
	for (guint i = 0; i < WRITERS; i++) {
		writers[i] = (Writer){tree.service, (char)('a' + i), &stop};
		threads[i] = g_thread_new("writer", writer_thread, &writers[i]);
	}
	for (guint i = 0; i < WRITERS; i++)
		g_thread_join(threads[i]);
	g_atomic_int_set(&stop, TRUE);
	g_thread_join(reader);

	file = read_ok(tree.service, "shared.txt");
	assert_whole(json_object_get_string_member(file, "content"));
	g_assert_false(has_temp_files(tree.service));
	tree_clear(&tree);
}

/* ---- listing --------------------------------------------------------------------------- */

static JsonObject *
find_file(JsonArray *files, const char *path)
{
	for (guint i = 0; i < json_array_get_length(files); i++) {
		JsonObject *file = json_array_get_object_element(files, i);

		if (g_str_equal(json_object_get_string_member(file, "path"), path))
			return file;
	}
	return NULL;
}

static void
test_list_func(void)
{
	static const char *const expected[] = {
		"config.schema.json", "deep/er/x.ts", "index.js", "manifest.json",
		"notes.yml", "sub/a.txt", "weird.bin",
	};
	Tree tree;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	JsonArray *files;
	JsonObject *file;

	tree_init(&tree);
	sl_test_write_file(tree.service, ".hidden", "h", 0644);
	sl_test_write_file(tree.service, ".git/config", "h", 0644);
	sl_test_write_file(tree.service, "deep/er/x.ts", "ts", 0644);
	sl_test_write_file(tree.service, "notes.yml", "a: 1", 0644);
	sl_test_write_file(tree.service, "weird.bin", "", 0644);

	node = stdiolink_service_files_list(tree.service, &error);
	g_assert_no_error(error);
	files = json_node_get_array(node);

	/* links (to files, folders, inside or out) are neither listed nor entered */
	g_assert_cmpuint(json_array_get_length(files), ==, G_N_ELEMENTS(expected));
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		file = json_array_get_object_element(files, i);
		g_assert_cmpstr(json_object_get_string_member(file, "path"), ==, expected[i]);
	}

	file = find_file(files, "sub/a.txt");
	g_assert_cmpstr(json_object_get_string_member(file, "name"), ==, "a.txt");
	g_assert_cmpint(json_object_get_int_member(file, "size"), ==, 6);
	g_assert_cmpstr(json_object_get_string_member(file, "type"), ==, "text");
	g_assert_true(json_object_has_member(file, "modifiedAt"));
	g_assert_cmpstr(json_object_get_string_member(find_file(files, "deep/er/x.ts"), "type"),
			==, "typescript");
	g_assert_cmpstr(json_object_get_string_member(find_file(files, "index.js"), "type"),
			==, "javascript");
	g_assert_cmpstr(json_object_get_string_member(find_file(files, "manifest.json"), "type"),
			==, "json");
	g_assert_cmpstr(json_object_get_string_member(find_file(files, "weird.bin"), "type"),
			==, "unknown");
	tree_clear(&tree);
}

static void
test_file_types_func(void)
{
	static const struct {
		const char *name;
		const char *type;
	} cases[] = {
		{"a.json", "json"},	{"a.js", "javascript"}, {"a.mjs", "javascript"},
		{"a.ts", "typescript"}, {"a.md", "text"},	{"a.txt", "text"},
		{"a.yaml", "text"},	{"a.yml", "text"},	{"a.toml", "text"},
		{"a.cfg", "text"},	{"a.ini", "text"},	{"a.csv", "text"},
		{"a.JSON", "unknown"},	{"run", "unknown"},	{"a.jsx", "unknown"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpstr(stdiolink_service_file_type(cases[i].name), ==, cases[i].type);
}

/* ---- bodies and special files ---------------------------------------------------------- */

static void
body_fails(const char *text, gssize length, gboolean required, StdiolinkError code,
	   const char *message)
{
	g_autoptr(GBytes) body = g_bytes_new(text, length < 0 ? strlen(text) : (gsize)length);
	g_autoptr(GError) error = NULL;
	g_autofree char *content = stdiolink_service_file_content_from_body(body, required,
									    &error);

	g_assert_null(content);
	assert_error(error, code, message);
}

static void
body_gives(const char *text, gboolean required, const char *expected)
{
	g_autoptr(GBytes) body = g_bytes_new(text, strlen(text));
	g_autoptr(GError) error = NULL;
	g_autofree char *content = stdiolink_service_file_content_from_body(body, required,
									    &error);

	g_assert_no_error(error);
	g_assert_cmpstr(content, ==, expected);
}

static void
test_body_func(void)
{
	g_autofree char *huge = g_strnfill(STDIOLINK_SERVICE_FILE_MAX + 1, ' ');

	body_gives("{\"content\":\"hi\\n\"}", TRUE, "hi\n");
	body_gives("{\"content\":\"\"}", TRUE, "");
	body_gives("", FALSE, "");
	body_gives("  \n", FALSE, "");
	body_gives("{\"content\":7}", FALSE, "");
	body_fails("", 0, TRUE, STDIOLINK_ERROR_BAD_REQUEST,
		   "missing required string field: content");
	body_fails("{\"content\":null}", -1, TRUE, STDIOLINK_ERROR_BAD_REQUEST,
		   "missing required string field: content");
	body_fails("[1]", -1, TRUE, STDIOLINK_ERROR_BAD_REQUEST,
		   "request body must be a JSON object");
	body_fails("{\"content\":", -1, FALSE, STDIOLINK_ERROR_BAD_REQUEST,
		   "request body must be a JSON object");
	body_fails(huge, -1, TRUE, STDIOLINK_ERROR_PAYLOAD_TOO_LARGE,
		   "request body too large (limit 1MB)");
}

static void
check_fails(const char *relative, const char *content, const char *message)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(stdiolink_service_file_check_content(relative, content, &error));
	assert_error(error, STDIOLINK_ERROR_BAD_REQUEST, message);
}

static void
test_check_content_func(void)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(stdiolink_service_file_check_content("manifest.json", MANIFEST, &error));
	g_assert_true(stdiolink_service_file_check_content("config.schema.json",
							    "{\"x\":{\"type\":\"nonsense\"}}",
							    &error));
	g_assert_true(stdiolink_service_file_check_content("index.js", "{{{ not json", &error));
	g_assert_true(stdiolink_service_file_check_content("sub/manifest.json", "[]", &error));
	g_assert_no_error(error);

	check_fails("manifest.json", "[]", "manifest.json must be valid JSON object");
	check_fails("manifest.json", "{", "manifest.json must be valid JSON object");
	check_fails("manifest.json", "{\"manifestVersion\":\"2\"}",
		    "invalid manifest: unsupported manifestVersion: \"2\" (expected \"1\")");
	check_fails("manifest.json",
		    "{\"manifestVersion\":\"1\",\"id\":\"a\",\"name\":\"b\",\"version\":\"1\","
		    "\"extra\":1}",
		    "invalid manifest: unknown field in manifest.json: \"extra\"");
	check_fails("manifest.json", "{\"manifestVersion\":\"1\",\"name\":\"b\"}",
		    "invalid manifest: missing required field: id");
	check_fails("config.schema.json", "\"text\"",
		    "config.schema.json must be valid JSON object");
}

/* ---- removing a service folder -------------------------------------------------------- */

static void
test_dir_remove_func(void)
{
	Tree tree;
	g_autoptr(GError) error = NULL;
	g_autofree char *secret = NULL;
	g_autofree char *linked = NULL;
	g_autofree char *text = NULL;
	g_autofree char *listing = NULL;

	tree_init(&tree);
	g_assert_true(stdiolink_service_dir_remove(tree.service, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(tree.service, G_FILE_TEST_EXISTS));

	/* the links inside went, what they pointed to stays; no hidden leftovers */
	secret = g_build_filename(tree.outside, "secret.txt", NULL);
	text = sl_test_read_file(secret);
	g_assert_cmpstr(text, ==, "secret");
	listing = snapshot(tree.root);
	g_assert_null(strstr(listing, "removing"));

	/* a service folder that is a link loses the link only */
	linked = g_build_filename(tree.root, "linked", NULL);
	make_link("outside", tree.root, "linked");
	g_assert_true(stdiolink_service_dir_remove(linked, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(linked, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(secret, G_FILE_TEST_IS_REGULAR));

	g_assert_false(stdiolink_service_dir_remove(linked, &error));
	assert_error(error, STDIOLINK_ERROR_INTERNAL, "failed to remove service directory");
	tree_clear(&tree);
}

/* ---- creating a service ----------------------------------------------------------------- */

static StdiolinkServiceSpec *
spec_from(const char *json, GError **error)
{
	g_autoptr(JsonNode) node = stdiolink_json_parse(json, -1, NULL);

	g_assert_nonnull(node);
	return stdiolink_service_spec_new_from_json(json_node_get_object(node), error);
}

static void
test_spec_func(void)
{
	static const struct {
		const char *body;
		const char *message;
	} bad[] = {
		{"{}", "missing required string field: id"},
		{"{\"id\":\"\",\"name\":\"n\",\"version\":\"1\"}",
		 "missing required string field: id"},
		{"{\"id\":5,\"name\":\"n\",\"version\":\"1\"}",
		 "missing required string field: id"},
		{"{\"id\":\"a\",\"version\":\"1\"}", "missing required string field: name"},
		{"{\"id\":\"a\",\"name\":\"n\"}", "missing required string field: version"},
		{"{\"id\":\"a\",\"name\":\"n\",\"version\":\"1\",\"template\":\"fancy\"}",
		 "invalid template: must be 'empty', 'basic', 'driver_demo', or 'exec'"},
		{"{\"id\":\"a\",\"name\":\"n\",\"version\":\"1\",\"indexJs\":1}",
		 "field 'indexJs' must be a string"},
		{"{\"id\":\"a\",\"name\":\"n\",\"version\":\"1\",\"indexJs\":null}",
		 "field 'indexJs' must be a string"},
		{"{\"id\":\"a\",\"name\":\"n\",\"version\":\"1\",\"configSchema\":[]}",
		 "field 'configSchema' must be an object"},
		{"{\"id\":\"a b\",\"name\":\"n\",\"version\":\"1\"}", "invalid service id"},
		{"{\"id\":\"../x\",\"name\":\"n\",\"version\":\"1\"}", "invalid service id"},
		{"{\"id\":\"a\",\"name\":\"n\",\"version\":\"1\","
		 "\"configSchema\":{\"x\":{\"type\":\"nonsense\"}}}",
		 NULL},
	};
	g_autofree char *long_id = g_strnfill(129, 'a');
	g_autofree char *long_body = g_strdup_printf(
	    "{\"id\":\"%s\",\"name\":\"n\",\"version\":\"1\"}", long_id);
	g_autoptr(StdiolinkServiceSpec) spec = NULL;
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(StdiolinkServiceSpec) refused = spec_from(bad[i].body, &error);

		g_assert_null(refused);
		g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
		if (bad[i].message != NULL)
			g_assert_cmpstr(error->message, ==, bad[i].message);
		else
			g_assert_true(g_str_has_prefix(error->message, "invalid configSchema: "));
		g_clear_error(&error);
	}
	spec = spec_from(long_body, &error);
	g_assert_null(spec);
	assert_error(error, STDIOLINK_ERROR_BAD_REQUEST, "invalid service id");
	g_clear_error(&error);

	/* a non-string template, description or author counts as absent */
	spec = spec_from("{\"id\":\"A-b_9\",\"name\":\"n\",\"version\":\"1\",\"template\":3,"
			 "\"description\":false}", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(spec->template_name, ==, "empty");
	g_assert_cmpstr(spec->description, ==, "");
	g_assert_null(spec->index_js);
	g_assert_null(spec->config_schema);
	g_assert_true(stdiolink_service_is_valid_new_id(long_id + 1));
	g_assert_false(stdiolink_service_is_valid_new_id(long_id));
}

static StdiolinkService *
create_service(const char *services_dir, const char *body, GError **error)
{
	g_autoptr(StdiolinkServiceSpec) spec = spec_from(body, error);

	g_assert_nonnull(spec);
	return stdiolink_service_create(services_dir, spec, error);
}

static void
test_create_service_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("service-create-XXXXXX");
	g_autofree char *services = g_build_filename(root, "services", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkService) basic = NULL;
	g_autoptr(StdiolinkService) exec = NULL;
	g_autoptr(StdiolinkService) custom = NULL;
	g_autoptr(StdiolinkService) again = NULL;
	g_autofree char *manifest = NULL;
	g_autofree char *path = NULL;
	JsonObject *schema;

	/* services/ is made when missing */
	basic = create_service(services, "{\"id\":\"basic\",\"name\":\"B\",\"version\":\"2\","
					 "\"template\":\"basic\",\"author\":\"me\"}", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(stdiolink_service_get_id(basic), ==, "basic");
	g_assert_cmpstr(stdiolink_service_get_author(basic), ==, "me");
	g_assert_false(stdiolink_service_is_native(basic));
	schema = stdiolink_service_get_raw_schema(basic);
	g_assert_true(json_object_has_member(schema, "name"));
	path = g_build_filename(services, "basic", "manifest.json", NULL);
	manifest = sl_test_read_file(path);
	g_assert_nonnull(strstr(manifest, "\"author\": \"me\""));
	g_assert_null(strstr(manifest, "description"));

	/* the native template runs its own entry */
	exec = create_service(services, "{\"id\":\"native\",\"name\":\"N\",\"version\":\"1\","
					"\"template\":\"exec\"}", &error);
	g_assert_no_error(error);
	g_assert_true(stdiolink_service_is_native(exec));
	g_assert_true(g_file_test(stdiolink_service_get_entry_path(exec),
				  G_FILE_TEST_IS_EXECUTABLE));

	custom = create_service(services, "{\"id\":\"custom\",\"name\":\"C\",\"version\":\"1\","
					  "\"template\":\"driver_demo\",\"indexJs\":\"// mine\","
					  "\"configSchema\":{\"port\":{\"type\":\"int\"}}}",
				&error);
	g_assert_no_error(error);
	g_free(path);
	path = g_build_filename(services, "custom", "index.js", NULL);
	g_free(manifest);
	manifest = sl_test_read_file(path);
	g_assert_cmpstr(manifest, ==, "// mine");
	schema = stdiolink_service_get_raw_schema(custom);
	g_assert_true(json_object_has_member(schema, "port"));
	g_assert_false(json_object_has_member(schema, "driverPath"));

	again = create_service(services, "{\"id\":\"basic\",\"name\":\"B\",\"version\":\"2\"}",
			       &error);
	g_assert_null(again);
	assert_error(error, STDIOLINK_ERROR_CONFLICT, "service directory already exists");
	g_assert_true(sl_test_remove_tree(root));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/service-files/normalize", test_normalize_func);
	g_test_add_func("/service-files/core-files", test_core_files_func);
	g_test_add_func("/service-files/hostile-paths", test_hostile_paths_func);
	g_test_add_func("/service-files/symlink-escape", test_symlink_escape_func);
	g_test_add_func("/service-files/read", test_read_func);
	g_test_add_func("/service-files/replace", test_replace_func);
	g_test_add_func("/service-files/create", test_create_func);
	g_test_add_func("/service-files/create-race", test_create_race_func);
	g_test_add_func("/service-files/delete", test_delete_func);
	g_test_add_func("/service-files/concurrent-writes", test_concurrent_writes_func);
	g_test_add_func("/service-files/list", test_list_func);
	g_test_add_func("/service-files/file-types", test_file_types_func);
	g_test_add_func("/service-files/body", test_body_func);
	g_test_add_func("/service-files/check-content", test_check_content_func);
	g_test_add_func("/service-files/dir-remove", test_dir_remove_func);
	g_test_add_func("/service-create/spec", test_spec_func);
	g_test_add_func("/service-create/create", test_create_service_func);
	return g_test_run();
}
