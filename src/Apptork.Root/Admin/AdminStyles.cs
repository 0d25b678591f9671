namespace Apptork.Root.Admin;

/// <summary>The control plane's one style sheet, embedded in the binary so the admin needs no static-file set-up.</summary>
internal static class AdminStyles
{
    public static string Css { get; } = Read();

    private static string Read()
    {
        using var stream = typeof(AdminStyles).Assembly.GetManifestResourceStream("Apptork.Root.Admin.admin.css")
            ?? throw new InvalidOperationException("admin.css is not embedded in the binary.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
