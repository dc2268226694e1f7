namespace Flash.Protocol;

internal static class Placeholder
{
}
