#include "image/image_io.hpp"

#include <itkGDCMImageIO.h>
#include <itkImage.h>
#include <itkMetaImageIO.h>
#include <itkNiftiImageIO.h>
#include <itkNrrdImageIO.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageSeriesReader.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <unistd.h>

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/limits.hpp"
#include "common/log.hpp"
#include "dicom/dicom_series.hpp"
#include "image/header_checks.hpp"

namespace fs = std::filesystem;

namespace swu {
namespace {

using FloatImage = itk::Image<float, 3>;

bool has_suffix(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool writable_extension(const std::string& path) {
    for (const char* e : {".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd"})
        if (has_suffix(path, e)) return true;
    return false;
}

template <class Pixel> Volume from_itk(itk::Image<Pixel, 3>* image, VoxelType type) {
    Geometry g;
    const auto region = image->GetLargestPossibleRegion();
    for (unsigned a = 0; a < 3; ++a) {
        g.size[a] = static_cast<int64_t>(region.GetSize()[a]);
        g.spacing[a] = image->GetSpacing()[a];
        g.origin[a] = image->GetOrigin()[a];
        for (unsigned c = 0; c < 3; ++c) g.direction[a * 3 + c] = image->GetDirection()[a][c];
    }
    Volume v = Volume::allocate(type, g);
    std::memcpy(v.mutable_data(), image->GetBufferPointer(), static_cast<size_t>(g.voxels()) * sizeof(Pixel));
    return v;
}

// The reader for a single file, chosen here rather than by ITK's factory: ITK offers a
// file every reader it has (GDCM included, which aborts the process on some garbage)
// until one accepts it. NIfTI, NRRD and MetaImage go by their extension; anything else
// must be a DICOM file that passed check_dicom_file.
itk::ImageIOBase::Pointer image_io_for(const std::string& path) {
    for (const char* e : {".nii", ".nii.gz", ".hdr", ".hdr.gz", ".img", ".img.gz", ".nia"})
        if (ends_with_nocase(path, e)) return itk::NiftiImageIO::New().GetPointer();
    for (const char* e : {".nrrd", ".nhdr"})
        if (ends_with_nocase(path, e)) return itk::NrrdImageIO::New().GetPointer();
    for (const char* e : {".mha", ".mhd"})
        if (ends_with_nocase(path, e)) return itk::MetaImageIO::New().GetPointer();
    try {
        check_dicom_file(path);
    } catch (const Error&) {
        fail(SWU_ERR_FORMAT, path + ": not a readable image (NIfTI .nii/.nii.gz/.hdr/.img, NRRD, MetaImage, a DICOM file "
                                    "or a DICOM folder)");
    }
    return itk::GDCMImageIO::New().GetPointer();
}

// Reads the file's voxels as Pixel (ITK converts from the stored type).
template <class Pixel> Volume read_as(const std::string& path, VoxelType type, itk::ImageIOBase* io) {
    auto reader = itk::ImageFileReader<itk::Image<Pixel, 3>>::New();
    reader->SetImageIO(io);
    reader->SetFileName(path);
    reader->Update();
    return from_itk<Pixel>(reader->GetOutput(), type);
}

// The stored type where a volume can keep it exactly (after any rescale the header
// asks for, ITK reports float), float32 otherwise.
VoxelType kept_type(const itk::ImageIOBase* io) {
    switch (io->GetComponentType()) {
        case itk::IOComponentEnum::SHORT: return VoxelType::Int16;
        case itk::IOComponentEnum::USHORT: return VoxelType::UInt16;
        case itk::IOComponentEnum::UCHAR: return VoxelType::UInt8;
        default: return VoxelType::Float32;
    }
}

// An ITK image with the volume's geometry and no buffer yet. With Dim 4 the channels are
// the 4th axis (spacing 1, origin 0).
template <class Pixel, unsigned Dim> typename itk::Image<Pixel, Dim>::Pointer itk_image(const Volume& v) {
    using ImageType = itk::Image<Pixel, Dim>;
    const Geometry& g = v.geometry();
    auto image = ImageType::New();
    typename ImageType::SizeType size;
    typename ImageType::SpacingType spacing;
    typename ImageType::PointType origin;
    typename ImageType::DirectionType direction;
    direction.SetIdentity();
    for (unsigned a = 0; a < 3; ++a) {
        size[a] = static_cast<itk::SizeValueType>(g.size[a]);
        spacing[a] = g.spacing[a];
        origin[a] = g.origin[a];
        for (unsigned c = 0; c < 3; ++c) direction[a][c] = g.direction[a * 3 + c];
    }
    if constexpr (Dim == 4) {
        size[3] = static_cast<itk::SizeValueType>(v.channels());
        spacing[3] = 1.0;
        origin[3] = 0.0;
    }
    image->SetRegions(typename ImageType::RegionType(size));
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    return image;
}

// A copy in ITK's dense order (the volume may be a strided view of caller memory).
template <class Pixel> typename itk::Image<Pixel, 3>::Pointer to_itk(const Volume& v) {
    auto image = itk_image<Pixel, 3>(v);
    image->Allocate();
    const Geometry& g = v.geometry();
    Pixel* out = image->GetBufferPointer();
    size_t n = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
        for (int64_t j = 0; j < g.size[1]; ++j)
            for (int64_t i = 0; i < g.size[0]; ++i) out[n++] = static_cast<Pixel>(v.value(v.offset(i, j, k)));
    return image;
}

// A volume of several channels (always dense) as a 4D image whose voxels are shared with
// the volume, not copied (they can be GBs).
template <class Pixel> typename itk::Image<Pixel, 4>::Pointer to_itk_channels(const Volume& v) {
    auto image = itk_image<Pixel, 4>(v);
    const size_t n = static_cast<size_t>(v.geometry().voxels() * v.channels());
    // The writer only reads the buffer; ITK's container API is not const-correct.
    image->GetPixelContainer()->SetImportPointer(static_cast<Pixel*>(const_cast<void*>(v.data())), n, false);
    return image;
}

// Refuses what the header describes before ITK allocates the voxels: more than three
// dimensions with data, or more voxels than the cap (a few header bytes can claim
// terabytes, e.g. in a gzip-compressed NIfTI).
void check_header_size(const std::string& path, itk::ImageIOBase* io) {
    const unsigned dims = io->GetNumberOfDimensions();
    for (unsigned a = 3; a < dims; ++a)
        if (io->GetDimensions(a) > 1)
            fail(SWU_ERR_INVALID_ARGUMENT, path + ": a " + std::to_string(dims) +
                                               "D image; a single 3D CT volume is required");
    double n[3] = {1, 1, 1};
    for (unsigned a = 0; a < dims && a < 3; ++a) n[a] = static_cast<double>(io->GetDimensions(a));
    check_voxel_limit(n[0], n[1], n[2], path + ": image");
}

}  // namespace

Volume read_dicom_volume(const std::string& folder, const std::string& series_uid, DicomSeries* chosen) {
    DicomSeries series = scan_dicom_series(folder, series_uid);
    {
        const Geometry g = series.geometry();
        check_voxel_limit(double(g.size[0]), double(g.size[1]), double(g.size[2]), folder + ": DICOM series");
    }
    std::vector<std::string> files;
    for (const DicomSlice& s : series.slices) files.push_back(s.file);
    auto reader = itk::ImageSeriesReader<FloatImage>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(files);
    try {
        reader->Update();
    } catch (const itk::ExceptionObject& e) {
        fail(SWU_ERR_FORMAT, folder + ": cannot read the pixel data of series " + series.series_uid + ": " + e.GetDescription());
    }
    // The scan checked the grid; its geometry is the one a DICOM SEG of this series
    // must match, so the volume takes exactly that (ITK derives the step from two slices).
    const Geometry g = series.geometry();
    FloatImage* image = reader->GetOutput();
    for (unsigned a = 0; a < 3; ++a)
        if (static_cast<int64_t>(image->GetLargestPossibleRegion().GetSize()[a]) != g.size[a])
            fail(SWU_ERR_FORMAT, folder + ": the pixel data of series " + series.series_uid + " do not match its headers");
    Volume v = Volume::allocate(VoxelType::Float32, g);
    std::memcpy(v.mutable_data(), image->GetBufferPointer(), static_cast<size_t>(g.voxels()) * sizeof(float));
    if (chosen) *chosen = std::move(series);
    return v;
}

Volume read_volume(const std::string& path, const std::string& series_uid) {
    std::error_code ec;
    if (!fs::exists(path, ec)) fail(SWU_ERR_IO, "'" + path + "' does not exist");
    try {
        if (fs::is_directory(path, ec)) return read_dicom_volume(path, series_uid, nullptr);
        if (!fs::is_regular_file(path, ec))
            fail(SWU_ERR_IO, "'" + path + "' is not a regular file or folder (a FIFO or device is not read)");
        check_nifti_header(path);
        check_metaimage_header(path);
        auto reader = itk::ImageFileReader<FloatImage>::New();
        reader->SetImageIO(image_io_for(path));
        reader->SetFileName(path);
        reader->UpdateOutputInformation();
        const unsigned dims = reader->GetImageIO()->GetNumberOfDimensions();
        const unsigned components = reader->GetImageIO()->GetNumberOfComponents();
        if (components != 1)
            fail(SWU_ERR_UNSUPPORTED, path + ": " + std::to_string(components) + "-component images are not CT volumes");
        if (dims < 3 || (dims == 3 && reader->GetImageIO()->GetDimensions(2) < 2))
            fail(SWU_ERR_INVALID_ARGUMENT, path + ": a 2D image; a 3D CT volume is required");
        check_header_size(path, reader->GetImageIO());
        check_nifti_payload(path);
        check_metaimage_payload(path);
        switch (kept_type(reader->GetImageIO())) {
            case VoxelType::Int16: return read_as<int16_t>(path, VoxelType::Int16, reader->GetImageIO());
            case VoxelType::UInt16: return read_as<uint16_t>(path, VoxelType::UInt16, reader->GetImageIO());
            case VoxelType::UInt8: return read_as<uint8_t>(path, VoxelType::UInt8, reader->GetImageIO());
            case VoxelType::Float32: break;
        }
        return read_as<float>(path, VoxelType::Float32, reader->GetImageIO());
    } catch (const itk::ExceptionObject& e) {
        const std::string what = e.GetDescription();
        if (what.find("Could not create IO object") != std::string::npos)
            fail(SWU_ERR_FORMAT, path + ": not a readable image (NIfTI, NRRD, MetaImage or a DICOM folder)");
        fail(SWU_ERR_FORMAT, path + ": " + what);
    } catch (const Error&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        // Anything else thrown while parsing (GDCM, the standard library) is a bad file.
        fail(SWU_ERR_FORMAT, path + ": " + e.what());
    }
}

void write_volume(const Volume& volume, const std::string& path) {
    if (!writable_extension(path))
        fail(SWU_ERR_INVALID_ARGUMENT, "'" + path + "': unknown image format (use .nii.gz, .nii, .nrrd, .mha or .mhd)");
    // Detached-header formats name their data file after the header: they are written
    // as a group, in a private folder, and moved into place together.
    const bool detached = has_suffix(path, ".mhd") || has_suffix(path, ".nhdr");
    std::unique_ptr<AtomicFile> file;
    std::unique_ptr<AtomicFileGroup> group;
    if (detached) group = std::make_unique<AtomicFileGroup>(path);
    else file = std::make_unique<AtomicFile>(path);  // keeps the extension: ITK picks the format by it
    const std::string written = file ? file->temp_path() : group->temp_path();
    try {
        auto write = [&](auto image) {
            using ImageType = typename decltype(image)::ObjectType;
            auto writer = itk::ImageFileWriter<ImageType>::New();
            writer->SetFileName(written);
            writer->SetInput(image);
            writer->SetUseCompression(true);
            writer->Update();
            // ITK's NIfTI writer reports a short write (a full disk) on stderr only: read
            // the file back and compare, so that a truncated file is never taken for done.
            auto reader = itk::ImageFileReader<ImageType>::New();
            reader->SetFileName(written);
            reader->Update();
            const auto* back = reader->GetOutput();
            const size_t bytes = image->GetPixelContainer()->Size() * sizeof(*image->GetBufferPointer());
            if (back->GetPixelContainer()->Size() != image->GetPixelContainer()->Size() ||
                std::memcmp(back->GetBufferPointer(), image->GetBufferPointer(), bytes) != 0)
                fail(SWU_ERR_IO, "cannot write '" + path + "': the file written does not read back whole (disk full?)");
        };
        auto write_as = [&](auto pixel) {
            using Pixel = decltype(pixel);
            if (volume.channels() > 1) write(to_itk_channels<Pixel>(volume));
            else write(to_itk<Pixel>(volume));
        };
        switch (volume.type()) {
            case VoxelType::UInt8: write_as(uint8_t{}); break;
            case VoxelType::Int16: write_as(int16_t{}); break;
            case VoxelType::UInt16: write_as(uint16_t{}); break;
            case VoxelType::Float32: write_as(float{}); break;
        }
    } catch (const itk::ExceptionObject& e) {
        fail(SWU_ERR_IO, "cannot write '" + path + "': " + e.GetDescription());
    }
    if (file) file->commit();
    else group->commit();
}

}  // namespace swu
