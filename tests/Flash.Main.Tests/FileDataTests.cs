using Flash.Main.Resources;

namespace Flash.Main.Tests;

public unsafe class FileDataTests
{
    [Test]
    public void Memory_is_freed_when_released_and_no_response_still_uses_it()
    {
        var data = FileData.From("hello"u8);
        data.AddUser();
        data.Release();
        Assert.That(data.Pointer != null, Is.True, "a response is still sending it");
        data.RemoveUser();
        Assert.That(data.Pointer == null, Is.True, "freed at once, not left to the GC");
    }

    [Test]
    public void Memory_stays_while_the_cache_holds_it()
    {
        var data = FileData.From("hello"u8);
        data.AddUser();
        data.RemoveUser();
        Assert.That(data.Span.ToArray(), Is.EqualTo("hello"u8.ToArray()));
        data.Release();
        Assert.That(data.Pointer == null, Is.True);
    }
}
