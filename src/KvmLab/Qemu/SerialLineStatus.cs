namespace KvmLab.Qemu;

/// <summary>How one line of the two serial outputs compares.</summary>
public enum SerialLineStatus
{
    /// <summary>The same line on both sides.</summary>
    Same,

    /// <summary>The lines differ (or one side lacks the line) for a known, structural reason given in the note.</summary>
    Explained,

    /// <summary>The lines differ and no known difference between the machines accounts for it.</summary>
    Differs,
}
