namespace KvmLab.Testing;

/// <summary>Where the repository a test runs from lies: the directory holding Teaching.sln above the test assembly.</summary>
public static class Repository
{
    /// <summary>The repository's root directory.</summary>
    /// <exception cref="DirectoryNotFoundException">No Teaching.sln above the test assembly.</exception>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Teaching.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException("Teaching.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
