using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>The two runtime shapes' databases; integration tests where the database matters run on both.</summary>
public enum DatabaseShape
{
    Sqlite,
    Postgres,
}

public static class DatabaseShapes
{
    public static TheoryData<DatabaseShape> Both => new(DatabaseShape.Sqlite, DatabaseShape.Postgres);
}
