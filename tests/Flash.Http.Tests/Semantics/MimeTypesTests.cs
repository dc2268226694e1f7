using System.Text;

namespace Flash.Http.Tests.Semantics;

public class MimeTypesTests
{
    private string _file = "";

    [SetUp]
    public void CreateFile() => _file = Path.Combine(Path.GetTempPath(), $"flashd-mime-{Guid.NewGuid():N}.types");

    [TearDown]
    public void DeleteFile() => File.Delete(_file);

    [TestCase("/index.html", "text/html; charset=utf-8")]
    [TestCase("page.htm", "text/html; charset=utf-8")]
    [TestCase("/s/site.css", "text/css; charset=utf-8")]
    [TestCase("/app.js", "text/javascript; charset=utf-8")]
    [TestCase("/app.mjs", "text/javascript; charset=utf-8")]
    [TestCase("/data.json", "application/json; charset=utf-8")]
    [TestCase("/app.js.map", "application/json; charset=utf-8")]
    [TestCase("/readme.txt", "text/plain; charset=utf-8")]
    [TestCase("/table.csv", "text/csv; charset=utf-8")]
    [TestCase("/README.md", "text/markdown; charset=utf-8")]
    [TestCase("/feed.xml", "application/xml")]
    [TestCase("/logo.svg", "image/svg+xml")]
    [TestCase("/a.png", "image/png")]
    [TestCase("/a.jpg", "image/jpeg")]
    [TestCase("/a.jpeg", "image/jpeg")]
    [TestCase("/a.gif", "image/gif")]
    [TestCase("/a.webp", "image/webp")]
    [TestCase("/a.avif", "image/avif")]
    [TestCase("/favicon.ico", "image/x-icon")]
    [TestCase("/f.woff", "font/woff")]
    [TestCase("/f.woff2", "font/woff2")]
    [TestCase("/f.ttf", "font/ttf")]
    [TestCase("/f.otf", "font/otf")]
    [TestCase("/doc.pdf", "application/pdf")]
    [TestCase("/a.zip", "application/zip")]
    [TestCase("/a.tar.gz", "application/gzip")]
    [TestCase("/a.tar", "application/x-tar")]
    [TestCase("/v.mp4", "video/mp4")]
    [TestCase("/v.webm", "video/webm")]
    [TestCase("/s.mp3", "audio/mpeg")]
    [TestCase("/s.ogg", "audio/ogg")]
    [TestCase("/m.wasm", "application/wasm")]
    public void The_built_in_table_knows_the_common_web_types(string path, string expected) =>
        Assert.That(Lookup(MimeTypes.Load(null), path), Is.EqualTo(expected));

    [TestCase("/INDEX.HTML")]
    [TestCase("/Index.Html")]
    [TestCase("/index.hTmL")]
    public void The_extension_is_compared_case_insensitively(string path) =>
        Assert.That(Lookup(MimeTypes.Load(null), path), Is.EqualTo("text/html; charset=utf-8"));

    [TestCase("/a/b", Description = "no extension")]
    [TestCase("/dir.html/file", Description = "a dot only in a directory")]
    [TestCase("/file.", Description = "empty extension")]
    [TestCase("/file.unknownext", Description = "unknown extension")]
    [TestCase("/file.htmlx", Description = "a longer extension")]
    [TestCase("/file.ht", Description = "a shorter extension")]
    [TestCase("/", Description = "a directory")]
    [TestCase("", Description = "nothing")]
    public void An_unknown_or_missing_extension_is_application_octet_stream(string path) =>
        Assert.That(Lookup(MimeTypes.Load(null), path), Is.EqualTo("application/octet-stream"));

    [Test]
    public void A_dot_file_is_typed_by_what_follows_its_dot() =>
        Assert.That(Lookup(MimeTypes.Load(null), "/dir/.html"), Is.EqualTo("text/html; charset=utf-8"));

    [Test]
    public void Unknown_extensions_get_the_shared_default_array()
    {
        var types = MimeTypes.Load(null);

        Assert.That(types.Lookup("/x.nope"u8), Is.SameAs(MimeTypes.Default));
        Assert.That(Encoding.ASCII.GetString(MimeTypes.Default), Is.EqualTo("application/octet-stream"));
    }

    [Test]
    public void Lookups_return_the_prebuilt_bytes()
    {
        var types = MimeTypes.Load(null);

        Assert.That(types.Lookup("/a.html"u8), Is.SameAs(types.Lookup("/B.HTML"u8)));
    }

    [Test]
    public void Entries_of_the_mime_types_file_are_added()
    {
        File.WriteAllText(_file, "application/x-foo\tfoo  bar\nfont/x-Test TST\n");

        var types = MimeTypes.Load(_file);

        Assert.That(Lookup(types, "/a.foo"), Is.EqualTo("application/x-foo"));
        Assert.That(Lookup(types, "/a.BAR"), Is.EqualTo("application/x-foo"));
        Assert.That(Lookup(types, "/a.tst"), Is.EqualTo("font/x-test"));
        Assert.That(Lookup(types, "/a.html"), Is.EqualTo("text/html; charset=utf-8"));
    }

    [Test]
    public void Comments_and_lines_without_extensions_in_the_mime_types_file_are_skipped()
    {
        File.WriteAllText(_file, "# application/x-commented cmt\nimage/x-alone\n\n   \ntext/x-c c h # text/x-after after\nnotatype xyz\n");

        var types = MimeTypes.Load(_file);

        Assert.That(Lookup(types, "/a.cmt"), Is.EqualTo("application/octet-stream"));
        Assert.That(Lookup(types, "/a.after"), Is.EqualTo("application/octet-stream"));
        Assert.That(Lookup(types, "/a.xyz"), Is.EqualTo("application/octet-stream"));
        Assert.That(Lookup(types, "/a.h"), Is.EqualTo("text/x-c; charset=utf-8"));
    }

    [Test]
    public void The_built_in_table_wins_over_the_mime_types_file()
    {
        File.WriteAllText(_file, "application/x-evil html js\ntext/xml xml\napplication/javascript mjs\n");

        var types = MimeTypes.Load(_file);

        Assert.That(Lookup(types, "/a.html"), Is.EqualTo("text/html; charset=utf-8"));
        Assert.That(Lookup(types, "/a.js"), Is.EqualTo("text/javascript; charset=utf-8"));
        Assert.That(Lookup(types, "/a.xml"), Is.EqualTo("application/xml"));
        Assert.That(Lookup(types, "/a.mjs"), Is.EqualTo("text/javascript; charset=utf-8"));
    }

    [TestCase("text/x-latin; charset=iso-8859-1 lat")]
    [TestCase("text/x-latin;charset=iso-8859-1 lat")]
    [TestCase("text/ lat")]
    [TestCase("/plain lat")]
    [TestCase("text/pl\"ain lat")]
    [TestCase("text/a/b lat")]
    [TestCase("tëxt/plain lat")]
    public void A_line_whose_type_is_not_type_slash_subtype_is_skipped(string line)
    {
        File.WriteAllText(_file, line + "\nimage/x-good good\n");

        var types = MimeTypes.Load(_file);

        Assert.That(Lookup(types, "/a.lat"), Is.EqualTo("application/octet-stream"));
        Assert.That(Lookup(types, "/a.good"), Is.EqualTo("image/x-good"));
    }

    [Test]
    public void The_first_entry_of_the_mime_types_file_wins_for_a_repeated_extension()
    {
        File.WriteAllText(_file, "application/x-first dup\napplication/x-second dup\n");

        Assert.That(Lookup(MimeTypes.Load(_file), "/a.dup"), Is.EqualTo("application/x-first"));
    }

    [TestCase("text/x-python py", "/a.py", "text/x-python; charset=utf-8")]
    [TestCase("application/javascript jsx", "/a.jsx", "application/javascript; charset=utf-8")]
    [TestCase("application/json geojson", "/a.geojson", "application/json; charset=utf-8")]
    [TestCase("application/x-yaml yml", "/a.yml", "application/x-yaml")]
    [TestCase("image/x-bmp bmp", "/a.bmp", "image/x-bmp")]
    public void Text_types_from_the_file_get_a_utf8_charset_and_others_do_not(string line, string path, string expected)
    {
        File.WriteAllText(_file, line + "\n");

        Assert.That(Lookup(MimeTypes.Load(_file), path), Is.EqualTo(expected));
    }

    [Test]
    public void Hundreds_of_entries_from_the_file_are_all_found()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 500; i++)
        {
            text.Append("application/x-t").Append(i).Append(" e").Append(i).Append(" E").Append(i).Append("x\n");
        }

        File.WriteAllText(_file, text.ToString());
        var types = MimeTypes.Load(_file);

        for (var i = 0; i < 500; i++)
        {
            Assert.That(Lookup(types, "/f.e" + i), Is.EqualTo("application/x-t" + i));
            Assert.That(Lookup(types, "/f.e" + i + "X"), Is.EqualTo("application/x-t" + i));
        }

        Assert.That(Lookup(types, "/f.e500"), Is.EqualTo("application/octet-stream"));
        Assert.That(Lookup(types, "/f.png"), Is.EqualTo("image/png"));
    }

    [Test]
    public void A_missing_mime_types_file_leaves_the_built_in_table()
    {
        var types = MimeTypes.Load(_file);

        Assert.That(Lookup(types, "/a.css"), Is.EqualTo("text/css; charset=utf-8"));
        Assert.That(Lookup(types, "/a.foo"), Is.EqualTo("application/octet-stream"));
    }

    [Test]
    public void The_system_mime_types_file_loads_by_default_and_the_built_in_table_still_wins()
    {
        var types = MimeTypes.Load();

        Assert.That(Lookup(types, "/a.html"), Is.EqualTo("text/html; charset=utf-8"));
        Assert.That(Lookup(types, "/a.js"), Is.EqualTo("text/javascript; charset=utf-8"));
    }

    [Test]
    public void Lookup_does_not_allocate()
    {
        var types = MimeTypes.Load(null);
        var known = "/static/App.JS"u8.ToArray();
        var unknown = "/static/file.nope"u8.ToArray();
        types.Lookup(known);
        types.Lookup(unknown);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var n = 0; n < 1_000; n++)
        {
            types.Lookup(known);
            types.Lookup(unknown);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static string Lookup(MimeTypes types, string path) =>
        Encoding.ASCII.GetString(types.Lookup(Encoding.UTF8.GetBytes(path)));
}
