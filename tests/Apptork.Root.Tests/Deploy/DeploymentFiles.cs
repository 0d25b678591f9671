using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using Apptork.Root.Tests.Infrastructure.Servers;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Apptork.Root.Tests.Deploy;

/// <summary>The files of <c>deploy/</c>, read as the tools that use them would: YAML with its anchors and merge keys.</summary>
public static partial class DeploymentFiles
{
    public static string Folder => System.IO.Path.Combine(ServerHost.FindRepositoryRoot(), "deploy");

    public static string PathOf(params string[] parts) => System.IO.Path.Combine([Folder, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

    /// <summary>Every document of a YAML file, as maps (string keys), lists and strings.</summary>
    public static IReadOnlyList<Dictionary<string, object?>> Documents(params string[] parts)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new MergingParser(new Parser(new StringReader(Read(parts))));
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<string, object?>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (Normalize(deserializer.Deserialize<object?>(parser)) is Dictionary<string, object?> document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    public static Dictionary<string, object?> Compose() => Documents("docker-compose.yml").Single();

    public static IEnumerable<Dictionary<string, object?>> KubernetesObjects() =>
        Directory.EnumerateFiles(PathOf("kubernetes"), "*.yaml").Order().SelectMany(file => Documents("kubernetes", System.IO.Path.GetFileName(file)))
            .Where(document => document.ContainsKey("kind") && Text(document, "kind") != "Kustomization");

    public static Dictionary<string, object?> KubernetesObject(string kind, string name) =>
        KubernetesObjects().Single(document => Text(document, "kind") == kind && Text(document, "metadata", "name") == name);

    /// <summary>The node at a path of map keys (or list indexes), or null.</summary>
    public static object? At(object? node, params object[] path)
    {
        foreach (var step in path)
        {
            node = (node, step) switch
            {
                (Dictionary<string, object?> map, string key) => map.GetValueOrDefault(key),
                (List<object?> list, int index) when index < list.Count => list[index],
                _ => null,
            };
        }

        return node;
    }

    public static string? Text(object? node, params object[] path) => At(node, path) as string;

    public static Dictionary<string, object?> Map(object? node, params object[] path) =>
        At(node, path) as Dictionary<string, object?> ?? throw new InvalidOperationException($"No map at {string.Join('/', path)}");

    public static List<object?> List(object? node, params object[] path) =>
        At(node, path) as List<object?> ?? throw new InvalidOperationException($"No list at {string.Join('/', path)}");

    /// <summary>The variables of an env file (<c>NAME=value</c> lines), comments left out.</summary>
    public static Dictionary<string, string> EnvFile(params string[] parts) =>
        Read(parts).Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);

    /// <summary>The variables a Compose file interpolates (<c>${NAME}</c>, <c>${NAME:-default}</c>, <c>${NAME:?error}</c>; <c>$$</c> is a literal dollar).</summary>
    public static IEnumerable<Match> ComposeVariables(string text) => ComposeVariable().Matches(text.Replace("$$", "", StringComparison.Ordinal));

    /// <summary>A value of the Compose file with its variables replaced as Compose does, from <paramref name="variables"/>.</summary>
    public static string Interpolate(string value, IReadOnlyDictionary<string, string> variables) =>
        ComposeVariable().Replace(value, variable =>
        {
            var given = variables.GetValueOrDefault(variable.Groups["name"].Value);
            var operation = variable.Groups["operation"].Value;
            if (string.IsNullOrEmpty(given) && operation == ":-")
            {
                return variable.Groups["argument"].Value;
            }

            return string.IsNullOrEmpty(given) && operation == ":?"
                ? throw new InvalidOperationException($"{variable.Groups["name"].Value}: {variable.Groups["argument"].Value}")
                : given ?? "";
        });

    /// <summary>
    /// Whether the application reads a setting of this name (as an environment variable): a property of a settings
    /// class (one with a <c>Section</c> constant), or one of the few names read directly by the host or a library.
    /// </summary>
    public static bool IsSetting(string name)
    {
        if (DirectlyRead.Contains(name) || DirectlyReadPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal)))
        {
            return true;
        }

        var segments = name.Split("__");
        return SettingsClasses.Value.Any(settings =>
            settings.Section.Length <= segments.Length
            && settings.Section.Select((part, index) => string.Equals(part, segments[index], StringComparison.OrdinalIgnoreCase)).All(same => same)
            && Resolves(settings.Type, segments[settings.Section.Length..]));
    }

    private static readonly HashSet<string> DirectlyRead =
    [
        "Role", "Urls", "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ConnectionStrings__Postgres", "ConnectionStrings__Redis",
        "ConnectionStrings__Sqlite", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
    ];

    private static readonly string[] DirectlyReadPrefixes = ["Logging__", "OTEL_"];

    private static readonly Lazy<List<(string[] Section, Type Type)>> SettingsClasses = new(() =>
        typeof(Program).Assembly.GetTypes()
            .Select(type => (Type: type, Field: type.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(candidate => candidate.Field is { IsLiteral: true } && candidate.Field.FieldType == typeof(string))
            .Select(candidate => (((string)candidate.Field!.GetRawConstantValue()!).Split(':'), candidate.Type))
            .ToList());

    private static bool Resolves(Type type, string[] rest)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (rest.Length == 0)
        {
            return true;
        }

        if (type == typeof(string) || type.IsPrimitive || type.IsEnum || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(Uri))
        {
            return false;
        }

        // A list's indexes and a dictionary's keys are the operator's own.
        if (typeof(IEnumerable).IsAssignableFrom(type))
        {
            return true;
        }

        var property = type.GetProperty(rest[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is not null && Resolves(property.PropertyType, rest[1..]);
    }

    /// <summary>YamlDotNet's maps have object keys; the deployment files' keys are all strings.</summary>
    private static object? Normalize(object? node) => node switch
    {
        IDictionary<object, object?> map => map.ToDictionary(entry => (string)entry.Key, entry => Normalize(entry.Value)),
        IList<object?> list => list.Select(Normalize).ToList(),
        _ => node,
    };

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<operation>:-|:\?)(?<argument>[^}]*))?\}")]
    private static partial Regex ComposeVariable();
}
