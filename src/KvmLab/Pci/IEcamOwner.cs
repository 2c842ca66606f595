namespace KvmLab.Pci;

/// <summary>A host bridge that places the ECAM window itself, as q35's MCH does through PCIEXBAR; the
/// <see cref="PciHost"/> hands itself over when the bridge is plugged in.</summary>
internal interface IEcamOwner
{
    /// <summary>The host whose ECAM window the bridge programs.</summary>
    PciHost? Host { get; set; }
}
