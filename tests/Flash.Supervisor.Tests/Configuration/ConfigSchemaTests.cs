using System.Reflection;
using System.Text.RegularExpressions;
using Flash.Protocol.Configuration;
using Flash.Supervisor.Configuration;

namespace Flash.Supervisor.Tests.Configuration;

/// <summary>The schema, ServerConfig and README.md's table must name the same keys, with the same defaults.</summary>
public partial class ConfigSchemaTests
{
    private static IEnumerable<string> PropertyPaths(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            string name = prefix + property.Name;
            // Strings, arrays and dictionaries are values (lists and maps), not sections.
            bool isMap = property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>);
            if (property.PropertyType.IsClass && property.PropertyType != typeof(string) && !property.PropertyType.IsArray && !isMap)
            {
                foreach (var inner in PropertyPaths(property.PropertyType, name + "."))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return name;
            }
        }
    }

    private static Dictionary<string, string> ReadmeTable()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "FlashSupervisor.sln")))
        {
            dir = dir.Parent;
        }

        var rows = new Dictionary<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(dir.FullName, "README.md")))
        {
            var match = TableRow().Match(line);
            if (match.Success)
            {
                rows[match.Groups["key"].Value] = match.Groups["default"].Value;
            }
        }

        return rows;
    }

    [Test]
    public void The_schema_has_every_property_of_ServerConfig()
    {
        Assert.That(ConfigSchema.AllNames, Is.EquivalentTo(PropertyPaths(typeof(ServerConfig), "")));
    }

    [Test]
    public void The_README_documents_every_key_with_its_default()
    {
        var table = ReadmeTable();
        var defaults = new ServerConfig();
        using (Assert.EnterMultipleScope())
        {
            foreach (var key in ConfigSchema.Scalars)
            {
                Assert.That(table, Does.ContainKey(key.Name), $"README.md's configuration table lacks {key.Name}");
                string value = key.Format(defaults);
                if (value.Length > 0 && table.TryGetValue(key.Name, out var cell))
                {
                    Assert.That(cell.Replace("`", "", StringComparison.Ordinal), Does.Contain(value).IgnoreCase, $"{key.Name}'s default");
                }
            }

            Assert.That(table, Does.ContainKey(ConfigSchema.IndexFiles));
            Assert.That(table.Keys, Is.SubsetOf(ConfigSchema.AllNames), "the README names no key that does not exist");
        }
    }

    [GeneratedRegex(@"^\| `(?<key>[A-Za-z.]+)` \| (?<default>[^|]*) \|")]
    private static partial Regex TableRow();
}
