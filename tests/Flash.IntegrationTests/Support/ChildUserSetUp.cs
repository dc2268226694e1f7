namespace Flash.IntegrationTests;

/// <summary>
/// flashd started as root runs its children as www-data (User's default), who cannot enter the tests' temporary
/// document roots (mode 0700). CI runs the suite as root, so every flashd a test starts keeps its children as
/// root (FLASHD_User, inherited), except where a test removes the variable to check the privilege drop itself
/// (<see cref="Supervisor.PrivilegeTests"/>).
/// </summary>
[SetUpFixture]
public sealed class ChildUserSetUp
{
    public const string Variable = "FLASHD_User";

    [OneTimeSetUp]
    public void KeepChildrenAsRoot() => Environment.SetEnvironmentVariable(Variable, "root");

    [OneTimeTearDown]
    public void Restore() => Environment.SetEnvironmentVariable(Variable, null);
}
